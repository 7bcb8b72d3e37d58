import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { startBridge } from '#bridge';
import { OpenAIEmulator, newWebhookSecret } from '#emulator';
import { EventBus, type BridgeEventName, type BridgeEvents } from '#events';
import { withEnv } from '#testing';
import { CallRecordWriter } from '#transcripts';
import { captureDestination, rememberSensitive, secretsOf } from './log-capture.js';

export const TEST_API_KEY = 'sk-test-e2e-0123456789abcdef';

const ALL_EVENTS: BridgeEventName[] = [
  'call.accepted',
  'call.rejected',
  'sideband.connected',
  'realtime.event',
  'call.ended',
  'transcript.line',
  'call.transcript.completed',
  'call.transfer',
];

/** Everything the bridge published on its bus, with a way to await the next matching fact. */
export class BusRecorder {
  readonly events: Array<{ name: BridgeEventName; payload: unknown }> = [];
  private waiters: Array<{ name: BridgeEventName; match: (p: never) => boolean; resolve: (p: never) => void }> = [];

  constructor(bus: EventBus) {
    for (const name of ALL_EVENTS) {
      bus.on(name, (payload) => {
        this.events.push({ name, payload });
        this.waiters = this.waiters.filter((w) =>
          w.name === name && w.match(payload as never) ? (w.resolve(payload as never), false) : true,
        );
      });
    }
  }

  of<K extends BridgeEventName>(name: K, match: (p: BridgeEvents[K]) => boolean = () => true): BridgeEvents[K][] {
    return this.events.filter((e) => e.name === name && match(e.payload as BridgeEvents[K])).map((e) => e.payload as BridgeEvents[K]);
  }

  waitFor<K extends BridgeEventName>(name: K, match: (p: BridgeEvents[K]) => boolean = () => true, timeoutMs = 5000): Promise<BridgeEvents[K]> {
    const seen = this.of(name, match)[0];
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${name} within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({
        name,
        match: match as (p: never) => boolean,
        resolve: ((p: BridgeEvents[K]) => (clearTimeout(timer), resolve(p))) as (p: never) => void,
      });
    });
  }
}

export interface Harness {
  emulator: OpenAIEmulator;
  app: NestExpressApplication;
  bus: BusRecorder;
  baseUrl: string;
  webhookUrl: string;
  webhookSecret: string;
  close(): Promise<void>;
}

/** The real bridge on a real port, pointed at a fresh OpenAI emulator. */
export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const webhookSecret = env.OPENAI_WEBHOOK_SECRET?.split(',')[0] ?? newWebhookSecret();
  const emulator = await new OpenAIEmulator({ apiKey: TEST_API_KEY, webhookSecret }).start();
  const fullEnv = {
    OPENAI_API_KEY: TEST_API_KEY,
    OPENAI_WEBHOOK_SECRET: webhookSecret,
    OPENAI_BASE_URL: emulator.baseUrl,
    HOST: '127.0.0.1',
    SIDEBAND_HANDSHAKE_BACKOFF_MS: '20',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'bridge-e2e-')),
    // The production logger at its most verbose, captured for the run's log scan (LOG_PII stays off).
    LOG_LEVEL: 'verbose',
    ...env,
  };
  rememberSensitive('secret', secretsOf(fullEnv));
  const destination = captureDestination();
  const app = await withEnv(fullEnv, () => startBridge({ port: 0, ...(destination ? { logDestination: destination } : { logger: false }) }));
  const baseUrl = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const recorder = new BusRecorder(app.get(EventBus));
  return {
    emulator,
    app,
    bus: recorder,
    baseUrl,
    webhookUrl: `${baseUrl}/openai/webhook`,
    webhookSecret,
    async close() {
      await app.close();
      await emulator.stop();
      rememberPii(recorder);
    },
  };
}

/** The callers' numbers and URIs and what was said on the calls: none of it may reach a log line. */
function rememberPii(recorder: BusRecorder): void {
  rememberSensitive(
    'pii',
    recorder.of('call.accepted').flatMap(({ context }) => [context.callerNumber, context.dialledNumber, context.forwardedFrom, context.fromUri]),
  );
  rememberSensitive('pii', recorder.of('transcript.line', (l) => !l.placeholder).map((l) => l.text));
}

/**
 * A finished call's transcript as the records API serves it (`speaker: text`), once the call's transcript is complete
 * and the record writer has stored it. Needs the harness started with ADMIN_API_TOKEN = `token`.
 */
export async function storedTranscript(h: Harness, token: string, callId: string): Promise<string[]> {
  await h.bus.waitFor('call.transcript.completed', (e) => e.callId === callId);
  await h.app.get(CallRecordWriter).flush();
  const response = await fetch(`${h.baseUrl}/calls/${callId}/transcript`, { headers: { authorization: `Bearer ${token}` } });
  if (response.status !== 200) throw new Error(`GET /calls/${callId}/transcript answered ${response.status}`);
  const { lines } = (await response.json()) as { lines: Array<{ speaker: string; text: string }> };
  return lines.map((l) => `${l.speaker}: ${l.text}`);
}
