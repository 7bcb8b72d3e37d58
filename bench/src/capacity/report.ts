/** The capacity benchmark's section of the report: how it ran, one row per measured window, and its targets. */
import type { ProbeSample } from '../bridge-probe.js';
import type { BenchResult } from '../report.js';
import { ANSWER_TIMEOUT_MS, CONNECT_TIMEOUT_MS } from './load.js';
import { NOISY_WAIT, P99_LIMIT_MS, SETTLE_MS, quantile, type Step } from './step.js';
import type { OpenAIEmulator } from '#emulator';

const TARGET_CALLS = 2000;
const TARGET_KB_PER_CALL = 150;

/** How the bridge's event-loop thread was scheduled, as the report says it. */
export const PRIORITY_NOTES = {
  realtime:
    "the bridge's event-loop thread runs SCHED_RR (`chrt -r 10`), so that other processes on that core do not delay it: " +
    "the core is its own, as a pod's CPU would be",
  nice: "the bridge's event-loop thread runs at nice -10 (SCHED_RR was not permitted): other processes on that core still delay it at times",
  normal: 'the bridge runs at normal priority: other processes on that core delay it at times',
};

/** Sideband handshakes the emulator saw: opened, refused, and calls whose sideband was opened more than once. */
export function handshakeStats(emulator: OpenAIEmulator): { opened: number; refused: number; reattached: number } {
  const opened = new Map<string, number>();
  let refused = 0;
  for (const attempt of emulator.handshakes) {
    if (attempt.status === 101) opened.set(attempt.callId, (opened.get(attempt.callId) ?? 0) + 1);
    else refused++;
  }
  return { opened: [...opened.values()].reduce((a, b) => a + b, 0), refused, reattached: [...opened.values()].filter((n) => n > 1).length };
}

/** Everything the section states: the windows measured, and how the benchmark ran. */
export interface ReportInput {
  results: Step[];
  baseline: ProbeSample;
  shape: { events: number; seconds: number };
  windowSeconds: number;
  tries: number;
  rampRate: number;
  pinNote: string;
  priorityNote: string;
  withDiscord: boolean;
  stoppedBecause: string;
  bridgeErrors: { count: number; last: string[] };
  toolRuns: number;
  peakRss?: number;
  handshakes: { opened: number; refused: number; reattached: number };
  minutes: number;
  profileDir?: string;
}

/** With BENCH_PROBE_SQL=1: where the last window's SQLite time went, by statement. */
function sqlTable(step: Step | undefined): string[] {
  const sql = step?.bridge.sql;
  if (!step || !sql) return [];
  return [
    '',
    `SQLite statements in the last window (${step.calls.toLocaleString('en-US')} calls, ${step.bridge.seconds.toFixed(0)} s), by total time:`,
    '',
    '| statement | count | total ms | max ms |',
    '|---|---:|---:|---:|',
    ...sql.slice(0, 12).map((s) => `| \`${s.statement.replace(/\|/g, '\\|')}\` | ${s.count} | ${s.totalMs.toFixed(0)} | ${s.maxMs.toFixed(1)} |`),
  ];
}

function verdict(step: Step, tries: number): string {
  if (step.passed) return 'pass';
  if (step.noisy && step.attempt < tries) return `fail (${step.why}) while other processes held its core: measured again`;
  return `**fail**: ${step.why}`;
}

/** The markdown section and the two targets (capacity, memory per call). */
export function capacityReport(input: ReportInput): BenchResult {
  const { results, baseline, shape, tries } = input;
  const best = [...results].reverse().find((r) => r.passed);
  const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
  const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
  const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');
  const int = (n: number) => Math.round(n).toLocaleString('en-US');
  const pct = (share: number) => `${(share * 100).toFixed(0)} %`;
  const pq = (sorted: number[]) => `${f1(quantile(sorted, 0.5))} / ${f1(quantile(sorted, 0.99))}`;

  const lines = [
    '## Capacity: concurrent calls on one core',
    '',
    `One bridge process (the built app, production settings: SQLite, production logs, \`lookup_order\` against a local ` +
      `order API, ${input.withDiscord ? 'live notifications through the outbox into a FakeDiscord without rate limit' : 'no notification destination'}); ` +
      `${input.pinNote}; ${input.priorityNote}. Each call plays an endless scripted conversation (emulator script builder): caller turns with ` +
      `transcription deltas (one in three transcribed late), agent turns streaming transcript deltas with playback (one ` +
      `in four interrupted), one \`lookup_order\` tool call and DTMF \`12#\` per pass — ${shape.events} events per ` +
      `${f1(shape.seconds)} s pass, ${f1(shape.events / shape.seconds)} events/s per call on average, in bursts of up to ` +
      `~35 during agent speech. Calls start at random points of the conversation. Concurrency rises in steps ` +
      `(${input.rampRate} new calls/s, each with its webhook, accept and sideband), then ${SETTLE_MS / 1000} s to settle and a ` +
      `${input.windowSeconds} s measurement window. A window that fails on latency alone while the bridge's event-loop ` +
      `thread waited for its CPU more than ${NOISY_WAIT * 100} % of the time (other processes on its core) is measured ` +
      `again, up to ${tries} windows per step.`,
    '',
    '| calls | events/s in | replies/s out | bridge CPU (event loop) | waited for CPU | loop delay p50 / p99 / max (ms) | GC pauses: minor n, total; major n, max (ms) | DTMF `#` → reply p50 / p99 (ms) | tool call → output p50 / p99 (ms) | heap used (MB) | RSS (MB) | heap / call (KB) | RSS / call (KB) | failed calls | unanswered | ramp (s) | load side: CPU, loop p99 (ms) | |',
    '|---:|---:|---:|---:|---:|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|',
    ...results.map(
      (r) =>
        `| ${int(r.calls)}${r.attempt > 1 ? ` (window ${r.attempt})` : ''} | ${int(r.eventsPerSecond)} | ${int(r.repliesPerSecond)} | ${pct(r.bridge.cpu)}${r.bridge.mainThreadCpu !== undefined ? ` (${pct(r.bridge.mainThreadCpu)})` : ''} | ${r.bridge.runQueueWait !== undefined ? pct(r.bridge.runQueueWait) : '–'} | ` +
        `${f2(r.bridge.delay.p50)} / ${f2(r.bridge.delay.p99)} / ${f1(r.bridge.delay.max)} | ` +
        `${r.bridge.gc.minor.count}, ${r.bridge.gc.minor.totalMs.toFixed(0)}; ${r.bridge.gc.major.count}, ${r.bridge.gc.major.maxMs.toFixed(0)} | ${pq(r.dtmf)} | ${pq(r.tool)} | ` +
        `${mb(r.bridge.memory.heapUsed)} | ${mb(r.bridge.memory.rss)} | ${f1(r.heapPerCallKb)} | ${f1(r.rssPerCallKb)} | ` +
        `${r.failedCalls} | ${r.unanswered} | ${f1(r.rampSeconds)} | ${(r.generatorCpu * 100).toFixed(0)} %, ${f1(r.generatorP99)} | ${verdict(r, tries)} |`,
    ),
    '',
    best
      ? `**Capacity: ${int(best.calls)} concurrent calls on one core**; memory per call at that step: ` +
        `**${f1(best.heapPerCallKb)} KB heap, ${f1(best.rssPerCallKb)} KB RSS** (after a full GC, minus the idle ` +
        `baseline of ${mb(baseline.memory.heapUsed)} MB heap / ${mb(baseline.memory.rss)} MB RSS).`
      : '**Capacity: no step passed.**',
    `${input.stoppedBecause}.`,
    '',
    `What gates the figure: the bridge's own event-loop delay (\`monitorEventLoopDelay\`, 1 ms resolution, read by a ` +
      `probe preloaded into the bridge) — how long any event waits before the bridge can handle it — must have p99 ≤ ` +
      `${P99_LIMIT_MS} ms over the window, and no call may fail (webhook not 200, sideband not open within ` +
      `${CONNECT_TIMEOUT_MS / 1000} s, sideband dropped) and no measured event go unanswered for ${ANSWER_TIMEOUT_MS / 1000} s. ` +
      'The end-to-end columns are measured on the load side, from sending the event to receiving the bridge\'s ' +
      '`conversation.item.create`: DTMF `#` → the message telling the model the keys (bridge only), and ' +
      '`response.function_call_arguments.done` → `function_call_output` (includes the order API round trip on the load ' +
      'core). They include the load process\'s own scheduling delay (its loop p99 is shown), so they corroborate the ' +
      'gate rather than make it. Bridge CPU is user + system time of all its threads over the window (100 % = the core ' +
      'is full), in brackets that of the event-loop thread alone (the rest is V8\'s GC helpers and libuv\'s pool, on the ' +
      'same core). "Waited for CPU" is the share of the window the event-loop thread was ready to run but had no CPU: ' +
      'the bridge\'s own helper threads or other processes on its core (the machine is shared).',
    `Tool runs during the steps: ${int(input.toolRuns)}. Sideband handshakes: ${int(input.handshakes.opened)} opened, ` +
      `${int(input.handshakes.refused)} refused, ${int(input.handshakes.reattached)} call(s) opened more than once. ` +
      `Bridge lines on stderr: ${input.bridgeErrors.count}` +
      (input.bridgeErrors.count > 0 ? ` (last: \`${input.bridgeErrors.last.join(' ⏎ ').replace(/`/g, "'")}\`)` : '') +
      `. Peak bridge RSS: ${input.peakRss ? `${mb(input.peakRss)} MB` : 'unknown'}. Took ${input.minutes.toFixed(1)} min.`,
    ...(input.profileDir ? [`CPU profiles of every window and heap snapshots: \`${input.profileDir}\`.`] : []),
    ...sqlTable(results[results.length - 1]),
  ];

  const capacity = best?.calls ?? 0;
  const perCall = best ? Math.max(best.heapPerCallKb, best.rssPerCallKb) : NaN;
  return {
    section: lines.join('\n'),
    targets: [
      {
        name: 'Capacity',
        goal: `≥ ${TARGET_CALLS.toLocaleString('en-US')} concurrent calls per core (p99 ≤ ${P99_LIMIT_MS} ms, no failed call)`,
        measured: `${capacity.toLocaleString('en-US')} calls`,
        met: capacity >= TARGET_CALLS,
      },
      {
        name: 'Memory per call',
        goal: `≤ ${TARGET_KB_PER_CALL} KB per call (heap and RSS) at that capacity`,
        measured: best ? `${f1(best.heapPerCallKb)} KB heap, ${f1(best.rssPerCallKb)} KB RSS` : 'no passing step',
        met: perCall <= TARGET_KB_PER_CALL,
      },
    ],
  };
}
