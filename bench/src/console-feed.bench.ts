/**
 * The console's live feed under the load of 1,000 talking calls with 20 consoles connected: the feed's own CPU per
 * event and how late a released line reaches every console. The feed (MemoryFeedLog and FeedStreams, the code the
 * bridge runs) serves real SSE connections over loopback; the 20 consoles run in a child process, so their parsing
 * is not counted as the feed's CPU.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import express from 'express';
import { FeedStreams, MemoryFeedLog } from '#console';
import { systemClock } from '#resilience';
import type { BenchResult, Target } from './report.js';

const CONSOLES = Number(process.env.BENCH_FEED_CONSOLES ?? 20);
const CALLS = 1000;
/**
 * Feed events per talking call per second: the capacity script releases about six lines per 9 s conversation pass,
 * plus the call's own events (tool runs, key presses, the end), so 0.7 is on the high side.
 */
const EVENTS_PER_CALL_PER_SECOND = 0.7;
const SECONDS = Number(process.env.BENCH_FEED_SECONDS ?? 15);
const TARGET_P99_MS = 250;
/** The bridge's CPU at 1,000 talking calls (the capacity benchmark: 40–60 % of a core); the lower bound is used. */
const BRIDGE_CORE_SHARE_AT_1000 = 0.4;
const TARGET_CPU_SHARE = 0.1;

const CLIENT = `
const [url, n] = [process.argv[1], Number(process.argv[2])];
const latencies = [];
let received = 0;
const now = () => performance.timeOrigin + performance.now();
async function consume() {
  const response = await fetch(url, { headers: { accept: 'text/event-stream' } });
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end;
    while ((end = buffer.indexOf('\\n\\n')) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = frame.split('\\n').find((l) => l.startsWith('data: '));
      if (!data) continue;
      const event = JSON.parse(data.slice(6));
      if (event.type !== 'timeline') continue;
      received++;
      latencies.push(now() - event.sentAt);
    }
  }
}
for (let i = 0; i < n; i++) consume().catch(() => {});
process.stdout.write('ready\\n');
process.on('SIGTERM', () => {
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  process.stdout.write(JSON.stringify({ received, p50: pct(0.5), p99: pct(0.99), max: latencies.at(-1) }) + '\\n', () => process.exit(0));
});
`;

export async function benchConsoleFeed(): Promise<BenchResult> {
  const feed = new MemoryFeedLog(20_000);
  const streams = new FeedStreams(feed, systemClock);
  const app = express();
  app.get('/feed', (request, response) => void streams.stream(response, {}));
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed`;

  const client = spawn(process.execPath, ['-e', CLIENT, url, String(CONSOLES)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  client.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  while (!output.includes('ready')) await new Promise((resolve) => setTimeout(resolve, 20));
  while (streams.connected < CONSOLES) await new Promise((resolve) => setTimeout(resolve, 20));

  const rate = CALLS * EVENTS_PER_CALL_PER_SECOND;
  const total = Math.round(rate * SECONDS);
  const text = 'Sure, it is four two one seven, the order I placed last Tuesday.';
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (let sent = 0; sent < total; ) {
    // In 10 ms ticks, as the sideband's events arrive in bursts.
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
    for (; sent < due; sent++) {
      const at = new Date();
      feed.publish({
        type: 'timeline',
        callId: `rtc_${sent % CALLS}`,
        item: { kind: 'line', at, seq: Math.floor(sent / CALLS), speaker: sent % 2 ? 'caller' : 'agent', text, interrupted: false, placeholder: false },
        sentAt: performance.timeOrigin + performance.now(),
      } as never);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  await new Promise((resolve) => setTimeout(resolve, 500)); // the last events' delivery
  client.kill('SIGTERM');
  await once(client, 'exit');
  streams.beforeApplicationShutdown();
  server.close();

  const report = JSON.parse(output.split('\n').find((line) => line.startsWith('{'))!) as { received: number; p50: number; p99: number; max: number };
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const coreShare = cpuSeconds / elapsed;
  const perEventUs = (cpuSeconds / total) * 1e6;
  const shareOfBridge = coreShare / BRIDGE_CORE_SHARE_AT_1000;
  const expected = total * CONSOLES;
  const targets: Target[] = [
    {
      name: 'feed latency',
      goal: `a released line reaches every one of ${CONSOLES} consoles in p99 ≤ ${TARGET_P99_MS} ms`,
      measured: `p50 ${report.p50.toFixed(1)} ms, p99 ${report.p99.toFixed(1)} ms, max ${report.max.toFixed(1)} ms; ${report.received.toLocaleString('en-US')} of ${expected.toLocaleString('en-US')} delivered`,
      met: report.p99 <= TARGET_P99_MS && report.received === expected,
    },
    {
      name: 'feed CPU',
      goal: `≤ ${TARGET_CPU_SHARE * 100} % of the bridge's CPU at ${CALLS.toLocaleString('en-US')} talking calls`,
      measured: `${(coreShare * 100).toFixed(1)} % of a core (${perEventUs.toFixed(1)} µs per event for ${CONSOLES} consoles) = ${(shareOfBridge * 100).toFixed(1)} % of the bridge's ${BRIDGE_CORE_SHARE_AT_1000 * 100} %`,
      met: shareOfBridge <= TARGET_CPU_SHARE,
    },
  ];
  const section = [
    `${CONSOLES} consoles (SSE over loopback, in a child process) following the feed of ${CALLS.toLocaleString('en-US')} talking calls:`,
    `${rate} events/s (${EVENTS_PER_CALL_PER_SECOND} per call per second) for ${SECONDS} s, each serialized once and written to every console.`,
    `The feed's CPU is compared with the bridge's own at ${CALLS.toLocaleString('en-US')} calls (the capacity benchmark: ${BRIDGE_CORE_SHARE_AT_1000 * 100} % of a core at least).`,
  ].join('\n');
  return { section, targets };
}
