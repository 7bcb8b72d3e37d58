/**
 * How much time the bridge adds between OpenAI's webhook and our accept request.
 * The bridge runs as its own process (the built app, as in production); this process is OpenAI: it sends signed
 * webhooks at a fixed rate and times each accept request when it arrives at the emulator.
 * Measured: accept received (emulator) − webhook sent (here), over loopback, so it includes the HTTP round trip.
 * BENCH_SECONDS, BENCH_RUNS and BRIDGE_NODE_OPTIONS (e.g. GC flags for an experiment) tune a run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { OpenAIEmulator, newWebhookSecret, script } from '#emulator';
import { processMemory } from './process-memory.js';
import { pinning } from './pinning.js';
import type { BenchResult } from './report.js';

const MAIN = fileURLToPath(new URL('../../apps/bridge/src/main.js', import.meta.url));

export async function benchWebhookAccept(): Promise<BenchResult> {
  const API_KEY = 'sk-bench';

  const secret = newWebhookSecret();
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const runs = Number(process.env.BENCH_RUNS ?? 3);

  const emulator = await new OpenAIEmulator({ apiKey: API_KEY, webhookSecret: secret }).start();
  // The bridge on a core of its own, as in a pod; the sender and the emulator (OpenAI) on the other. BENCH_PIN=0: not.
  const pin = process.env.BENCH_PIN === '0' ? { restore: () => {}, note: 'not pinned (BENCH_PIN=0): the bridge and the load share the CPUs' } : pinning('this process (the sender and the emulator)');
  const [command, args] = pin.bridgeCpu !== undefined ? ['taskset', ['-c', pin.bridgeCpu, process.execPath, MAIN]] : [process.execPath, [MAIN]];
  const bridge = spawn(command, args, {
    env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: process.env.BRIDGE_NODE_OPTIONS ?? '', NO_COLOR: '1', PORT: '0', HOST: '127.0.0.1', OPENAI_API_KEY: API_KEY, OPENAI_WEBHOOK_SECRET: secret, OPENAI_BASE_URL: emulator.baseUrl, DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-webhook-')) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  process.once('exit', () => bridge.kill('SIGKILL')); // never leave the bridge behind, even when the bench fails
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/[^\s"]+)/.exec(out);
      if (!match) return;
      // From here on the production logs are still written (and cost what they cost), just not kept.
      bridge.stdout!.off('data', onData);
      bridge.stdout!.resume();
      resolve(match[1]);
    };
    bridge.stdout!.on('data', onData);
    bridge.once('exit', (code) => reject(new Error(`bridge exited (${code}) before listening`)));
  });
  const webhookUrl = `${url}/openai/webhook`;

  // A plain keep-alive HTTP client: the sender's own overhead is part of what is measured, so keep it small.
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  function post(body: string, headers: Record<string, string>): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = request(webhookUrl, { method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
      });
      req.once('error', reject);
      req.end(body);
    });
  }

  interface Run {
    latencies: number[];
    non200: number;
  }

  async function run(rate: number, durationSeconds: number): Promise<Run> {
    const total = Math.round(rate * durationSeconds);
    const interval = 1000 / rate;
    const latencies: number[] = [];
    let non200 = 0;
    const inFlight: Promise<void>[] = [];
    // Prepared ahead, so that the sender's own work does not count against the bridge.
    const hangup = script().pause(1500).hangup();
    const prepared = Array.from({ length: total }, () => {
      const call = emulator.createCall({ script: hangup });
      const body = JSON.stringify(emulator.incomingEvent(call));
      return { call, body, headers: emulator.signedHeaders(body) };
    });
    const start = performance.now();
    for (let i = 0; i < total; i++) {
      const due = start + i * interval;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      const { call, body, headers } = prepared[i];
      const sentAt = performance.now();
      inFlight.push(
        post(body, headers).then((status) => {
          if (status !== 200) non200++;
          const accept = emulator.requestsFor(call.callId, 'accept')[0];
          if (accept) latencies.push(accept.receivedAt - sentAt);
        }),
      );
    }
    await Promise.all(inFlight);
    emulator.requests.length = 0;
    await sleep(2000); // let these calls hang up before the next run
    for (const { call } of prepared) emulator.calls.delete(call.callId);
    return { latencies, non200 };
  }

  const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
  const ms = (n: number) => n.toFixed(2);

  const out: string[] = [
    '## Webhook → accept overhead',
    '',
    `${runs} runs of ${seconds}s per rate; the bridge is the built app in its own process, with its production logs;`,
    'measured at the emulator from the webhook leaving to the accept request arriving (loopback round trip included);',
    `${pin.note}.`,
    '',
    '| calls/s | calls | p50 ms | p99 ms | max ms | p99 of each run (ms) | non-200 |',
    '|---:|---:|---:|---:|---:|---|---:|',
  ];
  await run(50, 2); // warm-up: JIT, connection pools
  let p99At200 = NaN;
  for (const rate of [50, 200]) {
    const results: Run[] = [];
    for (let i = 0; i < runs; i++) results.push(await run(rate, seconds));
    const all = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const perRun = results.map((r) => ms(quantile([...r.latencies].sort((a, b) => a - b), 0.99))).join(' / ');
    const non200 = results.reduce((n, r) => n + r.non200, 0);
    out.push(`| ${rate} | ${all.length} | ${ms(quantile(all, 0.5))} | ${ms(quantile(all, 0.99))} | ${ms(all[all.length - 1])} | ${perRun} | ${non200} |`);
    if (rate === 200) p99At200 = quantile(all, 0.99);
  }
  out.push('', `Target p99 ≤ 10 ms at 200 calls/s: ${p99At200 <= 10 ? 'met' : 'NOT met'} (${ms(p99At200)} ms).`);
  const memory = processMemory(bridge.pid);
  const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
  if (memory) out.push(`Bridge memory at the end: RSS ${mb(memory.rss)}, peak RSS ${mb(memory.peakRss)}.`);

  bridge.kill('SIGTERM');
  await new Promise((resolve) => bridge.once('exit', resolve));
  pin.restore();
  await emulator.stop();
  return {
    section: out.join('\n'),
    targets: [{ name: 'Overhead', goal: 'p99 ≤ 10 ms at 200 calls/s', measured: `p99 ${ms(p99At200)} ms`, met: p99At200 <= 10 }],
  };
}

