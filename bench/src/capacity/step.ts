/**
 * One step of the capacity benchmark: the load raised to a number of calls, a settling time, then a measurement
 * window judged against the gate (the bridge's event-loop delay p99, failed calls, unanswered events); a window
 * lost to other processes on the bridge's core is measured again.
 */
import { join } from 'node:path';
import { performance, type IntervalHistogram } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProbeSample } from '../bridge-probe.js';
import type { BridgeProcess } from './bridge-process.js';
import type { Load, Window } from './load.js';
import type { EmulatedCall } from '#emulator';

/** The gate: the bridge's event-loop delay p99 over a window must not exceed this. */
export const P99_LIMIT_MS = 10;
/** After the calls of a step are placed, before its window. */
export const SETTLE_MS = 2000;
/** A failed window in which the bridge waited for its CPU more than this share of the time is measured again. */
export const NOISY_WAIT = 0.05;

export const quantile = (sorted: number[], q: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
const sortNumbers = (values: number[]) => [...values].sort((a, b) => a - b);

/** One measurement window at one concurrency, judged. */
export interface Step {
  calls: number;
  /** Which window at this concurrency (a window lost to other processes is measured again). */
  attempt: number;
  eventsPerSecond: number;
  repliesPerSecond: number;
  bridge: ProbeSample;
  tool: number[];
  dtmf: number[];
  heapPerCallKb: number;
  rssPerCallKb: number;
  failedCalls: number;
  unanswered: number;
  generatorP99: number;
  /** Share of its core the load side used over the window. */
  generatorCpu: number;
  /** How long reaching this step's calls took. */
  rampSeconds: number;
  passed: boolean;
  /** Failed on latency alone while the bridge waited for its CPU (other processes): worth measuring again. */
  noisy: boolean;
  why?: string;
}

/** What a step measures with, for the whole benchmark. */
export interface StepContext {
  load: Load;
  /** The calls in progress (the step adds to them). */
  live: EmulatedCall[];
  bridge: BridgeProcess;
  /** The load process's own event-loop delay. */
  generatorDelay: IntervalHistogram;
  /** The idle bridge, after the warm-up: memory per call is counted from it. */
  baseline: ProbeSample;
  windowSeconds: number;
  /** Windows per step when other processes disturbed one. */
  tries: number;
  /** Places calls (the load's ramp). */
  addCalls: (count: number, into: EmulatedCall[]) => Promise<void>;
  /** BENCH_CAPACITY_PROFILE: profiles of every window, and heap snapshots, go there. */
  profileDir?: string;
  /** The step whose first window also takes a heap snapshot (with profileDir). */
  heapSnapshotAt?: number;
}

/**
 * Raises the load to `target` calls, lets it settle and measures: every window measured, the last of which is the
 * step's verdict (earlier ones failed on latency alone while other processes held the bridge's core).
 */
export async function runStep(context: StepContext, target: number): Promise<Step[]> {
  const { live } = context;
  const rampStart = performance.now();
  await context.addCalls(target - live.length, live);
  const rampSeconds = (performance.now() - rampStart) / 1000;
  await sleep(SETTLE_MS);
  const windows: Step[] = [];
  let step = await measure(context, target, rampSeconds, 1);
  // A window lost to other processes on the bridge's core (a shared machine) is measured again; a failed or
  // unanswered call never is.
  while (!step.passed && step.noisy && step.attempt < context.tries) {
    windows.push(step);
    await sleep(1000);
    step = await measure(context, target, rampSeconds, step.attempt + 1);
  }
  windows.push(step);
  return windows;
}

/** One measurement window at the current concurrency, judged. */
async function measure(context: StepContext, target: number, rampSeconds: number, attempt: number): Promise<Step> {
  const { load, live, bridge, generatorDelay, baseline, windowSeconds, profileDir } = context;
  const failedBefore = load.failedCalls;
  const window: Window = { tool: [], dtmf: [] };
  if (profileDir) await bridge.ask('profile-start'); // before the window: starting the profilers stalls the bridge
  generatorDelay.reset();
  await bridge.ask('reset');
  const windowStart = performance.now();
  const generatorCpuStart = process.cpuUsage();
  const sentBefore = load.sent;
  const receivedBefore = emulatorClientEvents(live);
  load.window = window;
  await sleep(windowSeconds * 1000);
  load.window = undefined;
  const seconds = (performance.now() - windowStart) / 1000;
  const generatorCpuUsed = process.cpuUsage(generatorCpuStart);
  const sent = load.sent - sentBefore;
  const replies = emulatorClientEvents(live) - receivedBefore;
  if (profileDir) await bridge.ask('profile-stop', { path: join(profileDir, `capacity-${target}-${attempt}`) });
  const generatorP99 = Math.max(0, generatorDelay.percentile(99) / 1e6 - 1);
  const sample = await bridge.sample(true);
  if (profileDir && attempt === 1 && target === context.heapSnapshotAt) {
    await bridge.ask('heap-snapshot', { path: join(profileDir, `capacity-${target}.heapsnapshot`) });
  }
  // Answers still on their way when the window closed are waited for before judging the step.
  await sleep(1000);
  const failedCalls = load.failedCalls;
  const problems: string[] = [];
  if (sample.delay.p99 > P99_LIMIT_MS) problems.push(`event-loop delay p99 ${sample.delay.p99.toFixed(1)} ms > ${P99_LIMIT_MS} ms`);
  if (failedCalls > 0) problems.push(`${failedCalls} failed call(s) (${failedCalls - failedBefore} in this window)`);
  if (load.unanswered > 0) problems.push(`${load.unanswered} event(s) never answered`);
  if (load.mismatched > 0) problems.push(`${load.mismatched} answer(s) to the wrong event`);
  const latencyOnly = problems.length === 1 && sample.delay.p99 > P99_LIMIT_MS;
  return {
    calls: target,
    attempt,
    eventsPerSecond: sent / seconds,
    repliesPerSecond: replies / seconds,
    bridge: sample,
    tool: sortNumbers(window.tool),
    dtmf: sortNumbers(window.dtmf),
    heapPerCallKb: (sample.memory.heapUsed - baseline.memory.heapUsed) / target / 1024,
    rssPerCallKb: (sample.memory.rss - baseline.memory.rss) / target / 1024,
    failedCalls,
    unanswered: load.unanswered,
    generatorP99,
    generatorCpu: (generatorCpuUsed.user + generatorCpuUsed.system) / 1e6 / seconds,
    rampSeconds,
    passed: problems.length === 0,
    noisy: latencyOnly && (sample.runQueueWait ?? 0) > NOISY_WAIT,
    ...(problems.length > 0 ? { why: problems.join('; ') } : {}),
  };
}

function emulatorClientEvents(calls: EmulatedCall[]): number {
  let n = 0;
  for (const call of calls) n += call.clientEvents.length;
  return n;
}
