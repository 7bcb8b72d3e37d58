/**
 * The capacity benchmark's rig, shared with the console feed benchmark: the stand-ins (the OpenAI emulator, the
 * order API, FakeDiscord), the built bridge in its own process pinned to CPU 0 with production settings, the load
 * that places and plays calls, and the warm-up. Whatever was started is on `cleanup`, to be undone in reverse order.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { BridgeProcess } from './bridge-process.js';
import { addCalls as placeCalls, Load, ORDER_API_TOKEN, passShape, startOrderApi } from './load.js';
import { pinning } from '../pinning.js';
import type { ProbeSample } from '../bridge-probe.js';
import { FakeDiscord, OpenAIEmulator, newWebhookSecret, type EmulatedCall } from '#emulator';
import { withTimeoutOr } from '#resilience';

const API_KEY = 'sk-bench-capacity';
const WARM_UP_CALLS = 100;
const WARM_UP_MS = 8000;

export interface RigOptions {
  rampRate: number;
  withDiscord: boolean;
  priority: 'realtime' | 'nice' | 'normal';
  /** More of the bridge's environment (e.g. ADMIN_API_TOKEN for the console). */
  env?: Record<string, string>;
  /** A file for the bridge's own output. */
  logFile?: string;
}

export interface Rig {
  load: Load;
  emulator: OpenAIEmulator;
  bridge: BridgeProcess;
  /** The bridge's base URL. */
  bridgeUrl: string;
  /** The priority the bridge's event loop got. */
  priority: 'realtime' | 'nice' | 'normal';
  pinNote: string;
  /** The load process's own event-loop delay. */
  generatorDelay: IntervalHistogram;
  /** One pass of the conversation every call plays. */
  shape: { events: number; seconds: number };
  /** Order API requests so far (one per `lookup_order` run). */
  toolRuns: () => number;
  /** Places `count` calls at the ramp rate; resolves once every sideband is open (or has failed). */
  addCalls: (count: number, into: EmulatedCall[]) => Promise<void>;
  /** JIT, pools, statement caches warmed by calls that then hang up; answers the idle bridge's sample. */
  warmUp: () => Promise<ProbeSample>;
}

/** Starts the rig; everything started is pushed on `cleanup` as it is. */
export async function startRig(options: RigOptions, cleanup: Array<() => unknown>): Promise<Rig> {
  const shape = passShape();
  const load = new Load();
  const pin = pinning('the load (emulator, order API, FakeDiscord)');
  cleanup.push(pin.restore);
  const secret = newWebhookSecret();
  const emulator = await new OpenAIEmulator({ apiKey: API_KEY, webhookSecret: secret }).start();
  cleanup.push(() => emulator.stop());
  const orderApi = await startOrderApi();
  cleanup.push(() => {
    orderApi.server.closeAllConnections();
    return new Promise((resolve) => orderApi.server.close(resolve));
  });
  const discord = options.withDiscord ? await new FakeDiscord().start() : undefined;
  if (discord) cleanup.push(() => discord.stop());
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-capacity-'));
  cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const bridge = BridgeProcess.start(
    {
      PATH: process.env.PATH ?? '',
      NODE_OPTIONS: '',
      NO_COLOR: '1',
      PORT: '0',
      HOST: '127.0.0.1',
      OPENAI_API_KEY: API_KEY,
      OPENAI_WEBHOOK_SECRET: secret,
      OPENAI_BASE_URL: emulator.baseUrl,
      DATA_DIR: dataDir,
      WELCOME_MESSAGE: 'Thanks for calling Acme, how can I help?',
      ORDER_API_URL: orderApi.url,
      ORDER_API_TOKEN,
      NOTIFY_CONSOLE: 'false',
      ...(process.env.BENCH_PROBE_SQL === '1' ? { BENCH_PROBE_SQL: '1' } : {}),
      ...(discord ? { DISCORD_WEBHOOK_URL: discord.webhookUrl('capacity') } : {}),
      ...options.env,
    },
    pin.bridgeCpu,
    dataDir, // no .env is read from the repository
    options.logFile,
  );
  cleanup.push(() => {
    load.stopping = true;
    return bridge.stop();
  });
  const priority = bridge.prioritise(options.priority);
  const generatorDelay = monitorEventLoopDelay({ resolution: 1 });
  generatorDelay.enable();
  cleanup.push(() => generatorDelay.disable());
  const bridgeUrl = await bridge.url;
  const webhookUrl = `${bridgeUrl}/openai/webhook`;
  const addCalls = (count: number, into: EmulatedCall[]) =>
    placeCalls(count, into, { load, emulator, webhookUrl, rampRate: options.rampRate, passMs: shape.seconds * 1000 });

  const warmUp = async () => {
    const calls: EmulatedCall[] = [];
    await addCalls(WARM_UP_CALLS, calls);
    await sleep(WARM_UP_MS);
    for (const call of calls) load.hangUp(call);
    await Promise.all(calls.map((c) => withTimeoutOr(c.ended, 5000, undefined)));
    await sleep(2000); // the bridge finishes those calls (records, summaries)
    for (const call of calls) emulator.calls.delete(call.callId);
    if (load.failedCalls > 0) throw new Error(`${load.failedCalls} of the ${WARM_UP_CALLS} warm-up calls failed`);
    load.unanswered = 0;
    load.mismatched = 0;
    return bridge.sample(true);
  };
  return { load, emulator, bridge, bridgeUrl, priority, pinNote: pin.note, generatorDelay, shape, toolRuns: orderApi.requests, addCalls, warmUp };
}
