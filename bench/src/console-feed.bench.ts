/**
 * The console's live feed with 1,000 calls talking (the capacity benchmark's script, rig and bridge process) and 20
 * consoles connected to the bridge's `/console/api/feed`: what the consoles add to the bridge's CPU, and how late a
 * released line reaches them.
 *
 * The bridge runs as in the capacity benchmark (its own process, pinned to CPU 0, production settings), with the
 * console on. Once the calls are placed and settled, windows alternate: no console connected, then the consoles
 * connected (in a child process on the load's CPU, so their parsing is not the bridge's), BENCH_FEED_PAIRS times.
 * The feed's cost per event is the bridge's CPU with the consoles minus its CPU without them, over the feed's events;
 * each pair is measured back to back, so the machine's drift hardly enters the difference. What the feed does when
 * no console is connected (the listener building each event and serializing it once) is not in that difference, so
 * it is measured apart, in this process, and added. Every console checks that the feed's ids follow one another
 * (an id skipped is an event lost) and measures each line from its release (`at`, in milliseconds) to its arrival.
 *
 * Tuning: BENCH_FEED_CALLS (1000), BENCH_FEED_CONSOLES (20), BENCH_FEED_PAIRS (6), BENCH_FEED_SECONDS (each window, 5).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRig } from './capacity/rig.js';
import type { BenchResult, Target } from './report.js';
import { MemoryFeedLog, type FeedEvent } from '#console';
import type { EmulatedCall } from '#emulator';

const CALLS = Number(process.env.BENCH_FEED_CALLS ?? 1000);
const CONSOLES = Number(process.env.BENCH_FEED_CONSOLES ?? 20);
const PAIRS = Math.max(1, Number(process.env.BENCH_FEED_PAIRS ?? 6));
const WINDOW_SECONDS = Number(process.env.BENCH_FEED_SECONDS ?? 5);
const TOKEN = 'bench-feed-admin-token-0123456789abcdef';
const TARGET_P99_MS = 250;
const TARGET_CPU_SHARE = 0.1;
const SETTLE_MS = 2000;

/** The consoles: SSE over fetch, parsed as EventSource does; on SIGTERM they report and exit. */
const CONSOLES_SCRIPT = `
const [url, token, n] = [process.argv[1], process.argv[2], Number(process.argv[3])];
const latencies = [];
let events = 0, lines = 0, gaps = 0, open = 0, failed = 0, measuring = false;
async function consume() {
  const response = await fetch(url, { headers: { accept: 'text/event-stream', authorization: 'Bearer ' + token } });
  if (response.status !== 200) throw new Error('status ' + response.status);
  open++;
  if (open === n) process.stdout.write('ready\\n');
  const decoder = new TextDecoder();
  let buffer = '', last;
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = buffer.indexOf('\\n\\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let id, data;
      for (const line of frame.split('\\n')) {
        if (line.startsWith('id: ')) id = line.slice(4);
        else if (line.startsWith('data: ')) data = line.slice(6);
      }
      if (data === undefined) continue;
      const event = JSON.parse(data);
      if (id !== undefined) {
        const [boot, seq] = id.split('-');
        if (last && last[0] === boot && Number(seq) !== last[1] + 1) gaps++;
        last = [boot, Number(seq)];
      }
      if (!measuring || event.type === 'hello') continue;
      events++;
      if (event.type === 'timeline' && event.item.kind === 'line') {
        lines++;
        latencies.push(Date.now() - Date.parse(event.item.at));
      }
    }
  }
}
for (let i = 0; i < n; i++) consume().catch(() => failed++);
process.stdin.on('data', () => (measuring = !measuring));
process.on('SIGTERM', () => {
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  process.stdout.write(JSON.stringify({ events, lines, gaps, failed, p50: pct(0.5), p99: pct(0.99), max: latencies.at(-1) ?? NaN }) + '\\n', () => process.exit(0));
});
`;

interface ConsolesReport {
  events: number;
  lines: number;
  gaps: number;
  failed: number;
  p50: number;
  p99: number;
  max: number;
}

interface Pair {
  /** The bridge's CPU (share of a core) without and with the consoles. */
  offCpu: number;
  onCpu: number;
  /** The calls' events the bridge was sent per second in each window (the consoles share the load's CPU). */
  offCallEvents: number;
  onCallEvents: number;
  /** Feed events per second each console received in the window. */
  eventsPerSecond: number;
  consoles: ConsolesReport;
  offDelayP99: number;
  onDelayP99: number;
}

export async function benchConsoleFeed(): Promise<BenchResult> {
  const cleanup: Array<() => unknown> = [];
  try {
    const rig = await startRig({ rampRate: 200, withDiscord: true, priority: 'normal', env: { ADMIN_API_TOKEN: TOKEN } }, cleanup);
    await rig.warmUp();
    const live: EmulatedCall[] = [];
    await rig.addCalls(CALLS, live);
    await sleep(SETTLE_MS);
    const feedUrl = `${rig.bridgeUrl}/console/api/feed`;

    /** The bridge's CPU (share of a core) and event-loop delay p99 over one window. */
    const window = async (during?: () => void) => {
      await rig.bridge.ask('reset');
      during?.();
      const sentBefore = rig.load.sent;
      const started = performance.now();
      await sleep(WINDOW_SECONDS * 1000);
      during?.();
      const seconds = (performance.now() - started) / 1000;
      const sent = rig.load.sent - sentBefore;
      const sample = await rig.bridge.sample(false);
      return { cpu: sample.cpu, callEventsPerSecond: sent / seconds, delayP99: sample.delay.p99, seconds };
    };

    const pairs: Pair[] = [];
    for (let i = 0; i < PAIRS; i++) {
      const off = await window();
      const consoles = await startConsoles(feedUrl);
      cleanup.push(() => consoles.kill('SIGKILL'));
      await sleep(1000); // connected and caught up
      const on = await window(() => consoles.stdin!.write('\n')); // the consoles count this window only
      const report = await stopConsoles(consoles);
      pairs.push({ offCpu: off.cpu, onCpu: on.cpu, offCallEvents: off.callEventsPerSecond, onCallEvents: on.callEventsPerSecond, eventsPerSecond: report.events / CONSOLES / on.seconds, consoles: report, offDelayP99: off.delayP99, onDelayP99: on.delayP99 });
      await sleep(1000);
    }
    // One more window with the consoles, profiled: the share of the bridge's samples in the feed's code.
    const consoles = await startConsoles(feedUrl);
    cleanup.push(() => consoles.kill('SIGKILL'));
    const profileDir = mkdtempSync(join(tmpdir(), 'bench-feed-profile-'));
    cleanup.push(() => rmSync(profileDir, { recursive: true, force: true }));
    await rig.bridge.ask('profile-start');
    await sleep(1000); // starting the profiler stalls the bridge
    await window();
    await rig.bridge.ask('profile-stop', { path: join(profileDir, 'feed') });
    await stopConsoles(consoles);
    const profiled = feedShareOfProfile(join(profileDir, 'feed.cpuprofile'));
    const failedCalls = rig.load.failedCalls;
    const idle = await idleFeedCost();
    return report(pairs, idle, profiled, failedCalls, rig.pinNote);
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

async function startConsoles(url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', CONSOLES_SCRIPT, url, TOKEN, String(CONSOLES)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = performance.now() + 20_000;
  while (!output.includes('ready')) {
    if (performance.now() > deadline || child.exitCode !== null) throw new Error(`the consoles did not connect: ${output}`);
    await sleep(20);
  }
  (child as ChildProcess & { output: () => string }).output = () => output;
  return child;
}

async function stopConsoles(child: ChildProcess): Promise<ConsolesReport> {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
  const output = (child as ChildProcess & { output: () => string }).output();
  return JSON.parse(output.split('\n').find((line) => line.startsWith('{'))!) as ConsolesReport;
}

/**
 * The feed's work when no console is connected, which the windows' difference leaves out: a line event as the
 * listener builds it, serialized and put in the ring, timed in this process (µs per event).
 */
async function idleFeedCost(): Promise<number> {
  const feed = new MemoryFeedLog(20_000);
  const text = 'Sure, it is four two one seven, the order I placed last Tuesday.';
  const run = (count: number) => {
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      const event: FeedEvent = {
        type: 'timeline',
        callId: `rtc_${i % 1000}`,
        item: { kind: 'line', at: new Date(), seq: i, speaker: i % 2 ? 'caller' : 'agent', text, interrupted: false, placeholder: false },
      };
      feed.publish(event);
    }
    return ((performance.now() - started) * 1000) / count;
  };
  run(20_000); // warm
  const runs = [run(20_000), run(20_000), run(20_000)].sort((a, b) => a - b);
  return runs[1];
}

/** Where the feed's code is (source or built): the streams, the log and the listener. */
const FEED_CODE = /\/features\/console\/src\/feed\//;

interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string }; children?: number[] }>;
  samples: number[];
}

/**
 * The share of the profile's busy samples (the main thread not idle) with the feed's code anywhere on the stack:
 * its own time and what it calls (serializing, the sockets' writes). V8's collector threads are not in it.
 */
function feedShareOfProfile(path: string): { share: number; samples: number } {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const inFeed = new Map<number, boolean>();
  const isFeed = (id: number): boolean => {
    const known = inFeed.get(id);
    if (known !== undefined) return known;
    const up = parent.get(id);
    const result = FEED_CODE.test(byId.get(id)!.callFrame.url) || (up !== undefined && isFeed(up));
    inFeed.set(id, result);
    return result;
  };
  let busy = 0;
  let feed = 0;
  for (const id of profile.samples) {
    if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
    busy++;
    if (isFeed(id)) feed++;
  }
  return { share: busy === 0 ? 0 : feed / busy, samples: busy };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function report(pairs: Pair[], idleUs: number, profiled: { share: number; samples: number }, failedCalls: number, pinNote: string): BenchResult {
  const rows = pairs.map((p) => {
    // The consoles share the load's CPU, which may then send the bridge fewer events: the bridge's CPU is compared
    // per call event, both windows at the rate of the window without consoles.
    const offCpu = p.offCpu;
    const onCpu = (p.onCpu / p.onCallEvents) * p.offCallEvents;
    const addedUs = ((onCpu - offCpu) * 1e6) / p.eventsPerSecond;
    const idle = (idleUs * p.eventsPerSecond) / 1e6;
    const share = (onCpu - offCpu + idle) / (offCpu - idle);
    return { ...p, addedUs, share };
  });
  const share = median(rows.map((r) => r.share));
  const lost = pairs.reduce((n, p) => n + p.consoles.gaps + p.consoles.failed, 0);
  const p99 = Math.max(...pairs.map((p) => p.consoles.p99));
  const eventsPerSecond = median(pairs.map((p) => p.eventsPerSecond));
  const lines = pairs.reduce((n, p) => n + p.consoles.lines, 0);
  const targets: Target[] = [
    {
      name: 'feed latency',
      goal: `a released line reaches every one of ${CONSOLES} consoles in p99 ≤ ${TARGET_P99_MS} ms, none lost`,
      measured: `p99 ${p99} ms (the worst window; p50 ${median(pairs.map((p) => p.consoles.p50))} ms) over ${lines.toLocaleString('en-US')} line deliveries; ${lost} event(s) lost`,
      met: p99 <= TARGET_P99_MS && lost === 0 && failedCalls === 0,
    },
    {
      name: 'feed CPU',
      goal: `${CONSOLES} consoles add ≤ ${TARGET_CPU_SHARE * 100} % to the bridge's CPU at ${CALLS.toLocaleString('en-US')} talking calls`,
      measured: `+${(share * 100).toFixed(1)} % (median of ${pairs.length} pairs of windows; ${eventsPerSecond.toFixed(0)} feed events/s); in a profile, ${(profiled.share * 100).toFixed(1)} % of the bridge's busy time is the feed's code`,
      met: share <= TARGET_CPU_SHARE && profiled.share <= TARGET_CPU_SHARE,
    },
  ];
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const section = [
    `${CALLS.toLocaleString('en-US')} calls talking (the capacity benchmark's script and bridge process; ${pinNote}), the console on;`,
    `${pairs.length} pairs of ${WINDOW_SECONDS} s windows: no console, then ${CONSOLES} consoles on \`/console/api/feed\` (SSE, in a child process on the load's CPU).`,
    `The feed's idle work (each event built and serialized once, in the windows without consoles too) is timed apart: ${idleUs.toFixed(2)} µs per event, added to the difference.`,
    failedCalls > 0 ? `**${failedCalls} call(s) failed** during the benchmark.` : '',
    `A last window with the consoles is profiled: ${(profiled.share * 100).toFixed(1)} % of the bridge's ${profiled.samples.toLocaleString('en-US')} busy samples have the feed's code on the stack (the listener, the log, the streams and what they call; V8's collector threads are not sampled).`,
    'The bridge\'s CPU with consoles is scaled to the call events of the window without (the consoles share the load\'s CPU).',
    '',
    '| pair | bridge CPU, no console | with consoles | call events/s off / on | feed events/s | µs per event (consoles) | feed share | loop delay p99 off / on | line p50 / p99 / max ms | lost |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (r, i) =>
        `| ${i + 1} | ${pct(r.offCpu)} | ${pct(r.onCpu)} | ${r.offCallEvents.toFixed(0)} / ${r.onCallEvents.toFixed(0)} | ${r.eventsPerSecond.toFixed(0)} | ${r.addedUs.toFixed(1)} | ${pct(r.share)} | ${r.offDelayP99.toFixed(1)} / ${r.onDelayP99.toFixed(1)} ms | ${r.consoles.p50} / ${r.consoles.p99} / ${r.consoles.max} | ${r.consoles.gaps + r.consoles.failed} |`,
    ),
  ]
    .filter((line, i, all) => line !== '' || all[i - 1] !== '')
    .join('\n');
  return { section, targets };
}
