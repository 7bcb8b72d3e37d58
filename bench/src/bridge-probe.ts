/**
 * Preloaded into the bridge process by the capacity benchmark (`node --import …/bridge-probe.js main.js`), never by
 * the product: it measures the process from inside and answers over the IPC channel the benchmark opened. Nothing in
 * the bridge knows it is there.
 *
 * - `reset`: starts a measurement window (event-loop delay histogram, CPU time).
 * - `sample`: the window so far — event-loop delay percentiles, CPU share — and memory, after a full GC on request
 *   (the bridge then runs with `--expose-gc`).
 * - `profile-start` / `profile-stop`: a CPU profile and an allocation profile (sampling heap profiler) of the window,
 *   written as `<path>.cpuprofile` and `<path>.heapprofile`.
 * - `heap-snapshot`: a heap snapshot file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createRequire } from 'node:module';
import { constants, monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import { writeHeapSnapshot } from 'node:v8';
import { errorMessage } from '#resilience';

/** Timer resolution of the delay histogram (ms); each sample includes it, so it is subtracted. */
export const PROBE_RESOLUTION_MS = 1;

export type ProbeCommand =
  | { id: number; cmd: 'reset' }
  | { id: number; cmd: 'sample'; gc?: boolean }
  | { id: number; cmd: 'profile-start' }
  | { id: number; cmd: 'profile-stop'; path: string }
  | { id: number; cmd: 'heap-snapshot'; path: string };

export interface ProbeSample {
  /** Event-loop delay over the window (ms, resolution subtracted). */
  delay: { p50: number; p90: number; p99: number; max: number; mean: number; samples: number };
  /** Share of one core the process used over the window (user + system). */
  cpu: number;
  /**
   * Share of the window the event-loop thread was ready to run but waited for a CPU (Linux schedstat): time taken by
   * other processes on its core. Undefined where schedstat is not available.
   */
  runQueueWait?: number;
  /** Share of one core used by the event-loop thread alone; the rest of `cpu` is V8's GC helpers and libuv's pool. */
  mainThreadCpu?: number;
  seconds: number;
  memory: NodeJS.MemoryUsage;
  /** How long the forced GC took (ms), when one was asked for. */
  gcMs?: number;
  /** GC pauses over the window: minor (scavenges) and major (mark-compact) collections. */
  gc: { minor: PauseStats; major: PauseStats };
  /** With BENCH_PROBE_SQL=1: time in SQLite statements over the window, by statement (the slowest first). */
  sql?: Array<{ statement: string } & PauseStats>;
}

export interface PauseStats {
  count: number;
  totalMs: number;
  maxMs: number;
}

class Pauses {
  private readonly stats = new Map<string, PauseStats>();

  record(key: string, ms: number): void {
    const stats = this.stats.get(key);
    if (!stats) this.stats.set(key, { count: 1, totalMs: ms, maxMs: ms });
    else {
      stats.count++;
      stats.totalMs += ms;
      stats.maxMs = Math.max(stats.maxMs, ms);
    }
  }

  get(key: string): PauseStats {
    return this.stats.get(key) ?? { count: 0, totalMs: 0, maxMs: 0 };
  }

  all(): Array<[string, PauseStats]> {
    return [...this.stats];
  }

  reset(): void {
    this.stats.clear();
  }
}

/** Wraps better-sqlite3's statement methods (as the bridge resolves the package) to time every statement. */
function timeSqlite(): Pauses {
  const times = new Pauses();
  const require = createRequire(process.argv[1] ?? import.meta.url);
  const Database = require('better-sqlite3') as new (file: string) => { prepare(sql: string): object; close(): void };
  const probe = new Database(':memory:');
  const statement = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, (...args: unknown[]) => unknown>;
  probe.close();
  for (const method of ['run', 'all', 'get']) {
    const original = statement[method];
    statement[method] = function (this: { source: string }, ...args: unknown[]) {
      const started = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        times.record(this.source.replace(/\s+/g, ' ').slice(0, 60), performance.now() - started);
      }
    };
  }
  return times;
}

/** The main thread's time on a CPU and time runnable but waiting for one (ns), from /proc/thread-self/schedstat. */
function schedstat(): { runNs: number; waitNs: number } | undefined {
  try {
    const [run, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number);
    return Number.isFinite(run) && Number.isFinite(wait) ? { runNs: run, waitNs: wait } : undefined;
  } catch {
    return undefined;
  }
}

export type ProbeReply = { id: number; ok: true; sample?: ProbeSample; path?: string } | { id: number; ok: false; error: string };

if (process.send) {
  const histogram = monitorEventLoopDelay({ resolution: PROBE_RESOLUTION_MS });
  histogram.enable();
  let windowStart = performance.now();
  let cpuStart = process.cpuUsage();
  let schedStart = schedstat();
  let session: Session | undefined;

  const gcPauses = new Pauses();
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = ((entry as { detail?: unknown }).detail as { kind?: number } | undefined)?.kind;
      gcPauses.record(kind === constants.NODE_PERFORMANCE_GC_MINOR ? 'minor' : 'major', entry.duration);
    }
  }).observe({ entryTypes: ['gc'] });

  // SQLite runs on the event loop: with BENCH_PROBE_SQL=1 every statement is timed (the bridge's own copy of
  // better-sqlite3, wrapped where its statements live).
  const sqlTimes = process.env.BENCH_PROBE_SQL === '1' ? timeSqlite() : undefined;

  const ms = (ns: number) => Math.max(0, ns / 1e6 - PROBE_RESOLUTION_MS);
  const sample = (gc: boolean): ProbeSample => {
    const seconds = (performance.now() - windowStart) / 1000;
    const cpu = process.cpuUsage(cpuStart);
    const delay = {
      p50: ms(histogram.percentile(50)),
      p90: ms(histogram.percentile(90)),
      p99: ms(histogram.percentile(99)),
      max: ms(histogram.max),
      mean: ms(histogram.mean),
      samples: histogram.count,
    };
    const collect = (globalThis as { gc?: () => void }).gc;
    let gcMs: number | undefined;
    if (gc && collect) {
      const started = performance.now();
      collect();
      gcMs = performance.now() - started;
    }
    const sched = schedstat();
    const thread =
      sched && schedStart
        ? { runQueueWait: (sched.waitNs - schedStart.waitNs) / 1e9 / seconds, mainThreadCpu: (sched.runNs - schedStart.runNs) / 1e9 / seconds }
        : {};
    return {
      delay,
      cpu: (cpu.user + cpu.system) / 1e6 / seconds,
      ...thread,
      gc: { minor: gcPauses.get('minor'), major: gcPauses.get('major') },
      ...(sqlTimes
        ? {
            sql: sqlTimes
              .all()
              .map(([statement, stats]) => ({ statement, ...stats }))
              .sort((a, b) => b.totalMs - a.totalMs),
          }
        : {}),
      seconds,
      memory: process.memoryUsage(),
      ...(gcMs !== undefined ? { gcMs } : {}),
    };
  };

  const handle = async (command: ProbeCommand): Promise<ProbeReply> => {
    switch (command.cmd) {
      case 'reset':
        histogram.reset();
        gcPauses.reset();
        sqlTimes?.reset();
        windowStart = performance.now();
        cpuStart = process.cpuUsage();
        schedStart = schedstat();
        return { id: command.id, ok: true };
      case 'sample':
        return { id: command.id, ok: true, sample: sample(command.gc ?? false) };
      case 'profile-start':
        session = new Session();
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
        await session.post('HeapProfiler.enable');
        await session.post('HeapProfiler.startSampling', {
          samplingInterval: 32 * 1024,
          // Every allocation of the window, not only what is still alive at its end: the allocation rate is what feeds the GC.
          includeObjectsCollectedByMajorGC: true,
          includeObjectsCollectedByMinorGC: true,
        });
        return { id: command.id, ok: true };
      case 'profile-stop': {
        if (!session) throw new Error('no profile is running');
        const { profile } = await session.post('Profiler.stop');
        const { profile: allocations } = await session.post('HeapProfiler.stopSampling');
        session.disconnect();
        session = undefined;
        writeFileSync(`${command.path}.cpuprofile`, JSON.stringify(profile));
        writeFileSync(`${command.path}.heapprofile`, JSON.stringify(allocations));
        return { id: command.id, ok: true, path: command.path };
      }
      case 'heap-snapshot':
        return { id: command.id, ok: true, path: writeHeapSnapshot(command.path) };
    }
  };

  process.on('message', (command: ProbeCommand) => {
    handle(command).then(
      (reply) => process.send?.(reply),
      (error: unknown) => process.send?.({ id: command.id, ok: false, error: errorMessage(error) }),
    );
  });
  // The channel must not keep the bridge alive: it exits on SIGTERM exactly as it would without the probe.
  process.channel?.unref();
}
