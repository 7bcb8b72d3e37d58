/**
 * Capacity: the most concurrent calls ONE bridge process on ONE core holds with realistic event traffic while its
 * event handling stays under p99 10 ms, and what each call costs in memory.
 *
 * The bridge is the built app in its own process, pinned to CPU 0 (`taskset -c 0`) at normal priority (on a shared
 * machine, BENCH_CAPACITY_PRIORITY=realtime schedules its event-loop thread SCHED_RR where permitted), with production
 * settings: SQLite in a temporary DATA_DIR, production logs (written to a pipe and dropped), the `lookup_order` tool
 * against a local order API, and live Discord notifications through the durable outbox into a FakeDiscord without a
 * rate limit (standing for each team's own webhook; one real webhook would only be a queue, see the Discord
 * benchmark). This process is everything else — the OpenAI emulator with every call's sideband, the order API,
 * FakeDiscord — pinned to the other CPUs. A probe preloaded into the bridge (bridge-probe.ts) reports its event-loop
 * delay, CPU time, scheduling delay, GC pauses and memory over IPC.
 *
 * Every call plays an endless conversation built with the emulator's script builder (caller turns with transcription
 * deltas, some transcribed late; agent turns streaming transcript deltas with playback, some interrupted; a
 * `lookup_order` tool call; DTMF), joined at a random point so that calls are spread over it. Concurrency rises in
 * steps; at each step, after a settling time, one window of BENCH_SECONDS is measured. A step passes when the
 * bridge's event-loop delay p99 is at most 10 ms, no call has failed and every measured event was answered.
 *
 * Tuning: BENCH_SECONDS (window per step, default 10), BENCH_CAPACITY_STEPS (comma-separated call counts),
 * BENCH_CAPACITY_RAMP (new calls per second, default 200), BENCH_CAPACITY_TRIES (windows per step when other
 * processes disturbed one, default 2), BENCH_CAPACITY_PRIORITY (`realtime`, `nice` or `normal`),
 * BENCH_CAPACITY_DISCORD=0 (no notifications), BRIDGE_NODE_OPTIONS (e.g. GC flags).
 * Diagnosis: BENCH_CAPACITY_PROFILE=<dir> (a CPU and an allocation profile of every window, heap snapshots; with
 * BENCH_CAPACITY_PRIORITY=normal, or the profiler's own thread hardly gets to sample),
 * BENCH_PROBE_SQL=1 (time in SQLite by statement), BENCH_CAPACITY_BRIDGE_LOG=<file> (the bridge's output).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MAIN } from './capacity/bridge-process.js';
import { callLimit } from './capacity/load.js';
import { capacityReport, handshakeStats, PRIORITY_NOTES } from './capacity/report.js';
import { startRig } from './capacity/rig.js';
import { runStep, type Step, type StepContext } from './capacity/step.js';
import type { BenchResult } from './report.js';
import type { EmulatedCall } from '#emulator';

const DEFAULT_STEPS = [250, 500, 1000, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 8000];

/**
 * The benchmark: the stand-ins and the bridge started, a warm-up and an idle baseline, then the steps
 * (capacity/step.ts) of calls the load places (capacity/load.ts) until one fails, and the section
 * (capacity/report.ts). Whatever was started is stopped however it ends.
 */
export async function benchCapacity(): Promise<BenchResult> {
  const windowSeconds = Number(process.env.BENCH_SECONDS ?? 10);
  const tries = Math.max(1, Number(process.env.BENCH_CAPACITY_TRIES ?? 2));
  const wantedPriority = process.env.BENCH_CAPACITY_PRIORITY ?? 'normal';
  if (wantedPriority !== 'realtime' && wantedPriority !== 'nice' && wantedPriority !== 'normal') {
    throw new Error('BENCH_CAPACITY_PRIORITY must be realtime, nice or normal');
  }
  const rampRate = Number(process.env.BENCH_CAPACITY_RAMP ?? 200);
  const limit = callLimit();
  const requested = (process.env.BENCH_CAPACITY_STEPS ?? '').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
  const allSteps = requested.length > 0 ? requested : DEFAULT_STEPS;
  const steps = allSteps.filter((n) => n <= limit.calls);
  const withDiscord = process.env.BENCH_CAPACITY_DISCORD !== '0';
  const profileDir = process.env.BENCH_CAPACITY_PROFILE;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const started = performance.now();

  const live: EmulatedCall[] = [];
  const results: Step[] = [];
  /** What to undo, in reverse order, however the benchmark ends. */
  const cleanup: Array<() => unknown> = [];

  try {
    const rig = await startRig(
      { rampRate, withDiscord, priority: wantedPriority, ...(process.env.BENCH_CAPACITY_BRIDGE_LOG ? { logFile: process.env.BENCH_CAPACITY_BRIDGE_LOG } : {}) },
      cleanup,
    );
    const { load, bridge, generatorDelay, addCalls, priority } = rig;
    const baseline = await rig.warmUp();
    if (profileDir) await bridge.ask('heap-snapshot', { path: join(profileDir, 'capacity-baseline.heapsnapshot') });
    const orderRequestsAtStart = rig.toolRuns();

    let stoppedBecause = '';
    const context: StepContext = {
      load,
      live,
      bridge,
      generatorDelay,
      baseline,
      windowSeconds,
      tries,
      addCalls,
      profileDir,
      heapSnapshotAt: steps.find((n) => n >= 1000),
    };
    for (const target of steps) {
      const windows = await runStep(context, target);
      results.push(...windows);
      const step = windows[windows.length - 1]!;
      if (!step.passed) {
        stoppedBecause = `stopped at ${target} calls: ${step.why}`;
        break;
      }
    }
    if (!stoppedBecause) {
      stoppedBecause =
        steps.length < allSteps.length
          ? `stopped at ${steps[steps.length - 1] ?? 0} calls: more would exceed ${limit.why} (raise it with \`ulimit -n\` to go further)`
          : `every step passed (the last was ${steps[steps.length - 1]} calls)`;
    }

    return capacityReport({
      results,
      baseline,
      shape: rig.shape,
      windowSeconds,
      tries,
      rampRate,
      pinNote: rig.pinNote,
      priorityNote: PRIORITY_NOTES[priority],
      withDiscord,
      stoppedBecause,
      bridgeErrors: { count: bridge.errorCount, last: bridge.errorLines },
      toolRuns: rig.toolRuns() - orderRequestsAtStart,
      peakRss: bridge.peakRss(),
      handshakes: handshakeStats(rig.emulator),
      minutes: (performance.now() - started) / 60_000,
      profileDir,
    });
  } finally {
    for (const undo of cleanup.reverse()) {
      try {
        await undo();
      } catch {
        // the rest is still undone
      }
    }
  }
}

// `node --expose-gc dist/bench/src/capacity.bench.js` runs this one alone.
if (import.meta.url === `file://${process.argv[1]}` && existsSync(MAIN)) {
  console.log((await benchCapacity()).section);
}
