/**
 * Machine freezes: times when the whole machine stopped running processes (a virtual machine descheduled by its
 * host, say). A process that does nothing but wake every millisecond is never kept waiting long by the scheduler of
 * a running machine; when its wake-up comes FREEZE_MS or more late, the machine was frozen for that time, and so was
 * everything on it: the bridge, the load, the clocks' readers.
 *
 * Run alone, `node dist/bench/src/freeze-monitor.js [seconds]` prints the freezes an idle machine's CPU shows it
 * (`taskset -c 1 node …` for another CPU). The webhook
 * benchmark runs it as a separate process (`FreezeMonitor`) and reads its freezes as JSON lines on stdout.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** A wake-up this late (ms) is a freeze: as long as the whole webhook → accept budget. */
export const FREEZE_MS = 10;
const TICK_MS = 1;

/** A freeze, in ms since the epoch with sub-millisecond precision (`performance.timeOrigin + performance.now()`). */
export interface Freeze {
  start: number;
  end: number;
}

/**
 * The freeze monitor as child processes of the benchmark, one pinned to each CPU where `taskset` can pin them: a
 * virtual machine's CPUs are threads of its host, and the host can stop one while the other runs. Their freezes
 * accumulate until `stop()`.
 */
export class FreezeMonitor {
  readonly freezes: Freeze[] = [];
  private constructor(private readonly children: ChildProcess[]) {
    for (const child of children) {
      createInterface({ input: child.stdout! }).on('line', (line) => {
        try {
          this.freezes.push(JSON.parse(line) as Freeze);
        } catch {
          // not a freeze line
        }
      });
    }
  }

  static start(): FreezeMonitor {
    const script = [fileURLToPath(import.meta.url), '--json'];
    const pinned = process.platform === 'linux' && canPin();
    const children = pinned
      ? cpus().map((_, cpu) => spawn('taskset', ['-c', String(cpu), process.execPath, ...script], { stdio: ['ignore', 'pipe', 'inherit'] }))
      : [spawn(process.execPath, script, { stdio: ['ignore', 'pipe', 'inherit'] })];
    const kill = () => children.forEach((child) => child.kill('SIGKILL'));
    process.once('exit', kill);
    return new FreezeMonitor(children);
  }

  /** The freezes that overlap [from, to] (epoch ms), those of the CPUs that overlap each other merged into one. */
  between(from: number, to: number): Freeze[] {
    const merged: Freeze[] = [];
    for (const f of this.freezes.filter((f) => f.start <= to && f.end >= from).sort((a, b) => a.start - b.start)) {
      const last = merged[merged.length - 1];
      if (last && f.start <= last.end) last.end = Math.max(last.end, f.end);
      else merged.push({ ...f });
    }
    return merged;
  }

  stop(): void {
    for (const child of this.children) child.kill('SIGKILL');
  }
}

function canPin(): boolean {
  try {
    execFileSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Now, in epoch ms with sub-millisecond precision: comparable between processes on one machine. */
export const epochNow = (): number => performance.timeOrigin + performance.now();

function monitor(json: boolean, seconds: number | undefined): void {
  let last = epochNow();
  const started = last;
  const timer = setInterval(() => {
    const now = epochNow();
    const late = now - last - TICK_MS;
    if (late >= FREEZE_MS) {
      const freeze: Freeze = { start: last + TICK_MS, end: now };
      console.log(json ? JSON.stringify(freeze) : `${((now - started) / 1000).toFixed(2)} s: frozen for ${late.toFixed(1)} ms`);
    }
    last = now;
    if (seconds !== undefined && now - started >= seconds * 1000) clearInterval(timer);
  }, TICK_MS);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const json = process.argv.includes('--json');
  const seconds = process.argv.slice(2).find((a) => /^\d+$/.test(a));
  monitor(json, seconds === undefined ? undefined : Number(seconds));
}
