/** The capacity benchmark's bridge side: the process under test, started and stopped, and its probe. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { ProbeCommand, ProbeReply, ProbeSample } from '../bridge-probe.js';
import { processMemory } from '../process-memory.js';

export const MAIN = fileURLToPath(new URL('../../../apps/bridge/src/main.js', import.meta.url));
const PROBE = new URL('../bridge-probe.js', import.meta.url).href;

/** The built bridge in its own process, with the probe, and a way to ask the probe. */
export class BridgeProcess {
  private nextId = 0;
  private readonly pending = new Map<number, (reply: ProbeReply) => void>();
  readonly errorLines: string[] = [];
  errorCount = 0;
  readonly url: Promise<string>;

  private constructor(
    readonly child: ChildProcess,
    logFile?: string,
  ) {
    if (logFile) {
      const log = createWriteStream(logFile);
      child.stdout!.pipe(log);
      child.stderr!.pipe(log);
    }
    child.on('message', (reply: ProbeReply) => {
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
    // Production logs are written (and cost what they cost); errors are counted and the last few kept.
    let out = '';
    this.url = new Promise((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        const match = /listening on (http:\/\/[^\s"]+)/.exec(out);
        if (!match) return;
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(match[1]);
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code, signal) => reject(new Error(`the bridge exited (${code ?? signal}) before listening:\n${out.slice(-2000)}`)));
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        this.errorCount++;
        this.errorLines.push(line.slice(0, 300));
        if (this.errorLines.length > 5) this.errorLines.shift();
      }
    });
  }

  static start(env: Record<string, string>, cpu: string | undefined, cwd: string, logFile?: string): BridgeProcess {
    const nodeArgs = ['--expose-gc', '--import', PROBE, ...(process.env.BRIDGE_NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean), MAIN];
    const [command, args] = cpu !== undefined ? ['taskset', ['-c', cpu, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    process.once('exit', () => child.kill('SIGKILL')); // never leave the bridge behind, even when the bench fails
    return new BridgeProcess(child, logFile);
  }

  /**
   * Raises the priority of the bridge's event-loop thread (its helper threads keep theirs) so that other processes on
   * its core do not take it away: the benchmark is about what one core does, and the machine may be shared. `realtime`
   * (SCHED_RR, with `chrt`; the kernel still leaves 5 % of the core to others) gives it the core whenever it wants it;
   * `nice` only a larger share. Falls back when not permitted; returns what it got.
   */
  prioritise(wanted: 'realtime' | 'nice' | 'normal'): 'realtime' | 'nice' | 'normal' {
    const pid = this.child.pid;
    if (pid === undefined) return 'normal';
    if (wanted === 'realtime') {
      try {
        execFileSync('chrt', ['-r', '-p', '10', String(pid)], { stdio: 'ignore' });
        return 'realtime';
      } catch {
        // no chrt, or not permitted: try nice
      }
    }
    if (wanted !== 'normal') {
      try {
        setPriority(pid, -10);
        return 'nice';
      } catch {
        // not permitted
      }
    }
    return 'normal';
  }

  ask<C extends ProbeCommand['cmd']>(cmd: C, extra: Omit<Extract<ProbeCommand, { cmd: C }>, 'id' | 'cmd'> = {} as never, timeoutMs = 60_000): Promise<ProbeReply> {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the bridge probe did not answer ${cmd}`)), timeoutMs);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        if (reply.ok) resolve(reply);
        else reject(new Error(`the bridge probe failed ${cmd}: ${reply.error}`));
      });
      this.child.send({ id, cmd, ...extra } as ProbeCommand);
    });
  }

  async sample(gc: boolean): Promise<ProbeSample> {
    const reply = await this.ask('sample', { gc });
    return (reply as { sample: ProbeSample }).sample;
  }

  /** Peak RSS of the process so far (Linux), in bytes. */
  peakRss(): number | undefined {
    return processMemory(this.child.pid)?.peakRss;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
}
