import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A CPU quota of one CPU for one process, as Kubernetes enforces a pod's `limits.cpu: "1"`: a cgroup whose CFS
 * quota is 100 ms of CPU time per 100 ms period, over all the process's threads together, on any CPU. Needs a
 * writable cgroup file system (root, cgroup v1's `cpu` controller or v2 with `cpu` delegated); `create()` answers
 * why not otherwise, and the benchmark leaves that placement out.
 */
export class CpuQuota {
  private constructor(
    private readonly dir: string,
    readonly note: string,
  ) {}

  static create(name: string): CpuQuota | { unavailable: string } {
    const quota = CpuQuota.make(name);
    if (!(quota instanceof CpuQuota)) return quota;
    // Writing the quota is not enough: moving a process in can still be refused (cgroup v2's rules on where processes
    // may live, a file system writable only in part). Try with a throwaway process, so that the bridge never is.
    const probe = spawn('sleep', ['5'], { stdio: 'ignore' });
    probe.once('error', () => {}); // no `sleep`: pid is undefined, answered below
    try {
      if (probe.pid === undefined) throw Object.assign(new Error('no sleep command'), { code: 'ENOENT' });
      quota.add(probe.pid);
      return quota;
    } catch (error) {
      quota.remove();
      return { unavailable: `a process cannot be moved into the cgroup (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
    } finally {
      probe.kill('SIGKILL');
    }
  }

  private static make(name: string): CpuQuota | { unavailable: string } {
    if (process.platform !== 'linux') return { unavailable: 'not Linux' };
    const v1 = '/sys/fs/cgroup/cpu';
    const v2 = '/sys/fs/cgroup';
    try {
      if (existsSync(join(v1, 'cpu.cfs_quota_us'))) {
        const dir = join(v1, name);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'cpu.cfs_period_us'), '100000');
        writeFileSync(join(dir, 'cpu.cfs_quota_us'), '100000');
        return new CpuQuota(dir, 'cgroup v1 `cpu.cfs_quota_us` 100000 per 100000 µs');
      }
      if (readFileSync(join(v2, 'cgroup.controllers'), 'utf8').split(/\s+/).includes('cpu')) {
        const dir = join(v2, name);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'cpu.max'), '100000 100000');
        return new CpuQuota(dir, 'cgroup v2 `cpu.max` 100000 100000');
      }
      return { unavailable: 'no cgroup cpu controller found' };
    } catch (error) {
      return { unavailable: `the cgroup file system is not writable here (${(error as NodeJS.ErrnoException).code ?? 'error'})` };
    }
  }

  /** Moves a process, all its threads, into the quota. */
  add(pid: number): void {
    writeFileSync(join(this.dir, 'cgroup.procs'), String(pid));
  }

  /** How many times the quota ran out and stopped the process until the next period, and for how long in all (ms). */
  throttled(): { count: number; ms: number } | undefined {
    try {
      const stat = readFileSync(join(this.dir, 'cpu.stat'), 'utf8');
      const field = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(stat)?.[1] ?? NaN);
      // v1 counts throttled_time in ns, v2 throttled_usec in µs.
      const ms = Number.isFinite(field('throttled_time')) ? field('throttled_time') / 1e6 : field('throttled_usec') / 1e3;
      return { count: field('nr_throttled'), ms };
    } catch {
      return undefined;
    }
  }

  /** Removes the cgroup (once its process has exited). */
  remove(): void {
    try {
      rmdirSync(this.dir);
    } catch {
      // still in use or already gone: nothing to do in a benchmark
    }
  }
}
