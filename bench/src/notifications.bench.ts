/**
 * Discord delivery under load: 100 concurrent calls × 100 transcript lines into one fake Discord webhook that
 * enforces Discord's historical 5 requests / 2 s, through the real bridge (in this process) and its durable outbox.
 * Reports lines lost and out of order (both must be 0), 429s received, messages sent, and the lag from a notification
 * being stored to it being delivered.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBridge } from '#bridge';
import { FakeDiscord, OpenAIEmulator, newWebhookSecret, script } from '#emulator';
import { EventBus } from '#events';
import { Notifications } from '#notifications';
import type { BenchResult } from './report.js';

const CALLS = Number(process.env.BENCH_NOTIFY_CALLS ?? 100);
const LINES = Number(process.env.BENCH_NOTIFY_LINES ?? 100);

export async function benchNotifications(): Promise<BenchResult> {
  const secret = newWebhookSecret();
  const emulator = await new OpenAIEmulator({ apiKey: 'sk-bench', webhookSecret: secret }).start();
  const discord = await new FakeDiscord({ rateLimit: { requests: 5, windowMs: 2000 } }).start();
  const webhookUrl = discord.webhookUrl('bench');
  Object.assign(process.env, {
    OPENAI_API_KEY: 'sk-bench',
    OPENAI_WEBHOOK_SECRET: secret,
    OPENAI_BASE_URL: emulator.baseUrl,
    HOST: '127.0.0.1',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-notify-')),
    DISCORD_WEBHOOK_URL: webhookUrl,
  });
  const app = await startBridge({ logger: ['error'], port: 0 });
  const bridgeUrl = await app.getUrl();
  const notifications = app.get(Notifications);
  const lags: number[] = [];
  notifications.onDelivered = (message, at) => lags.push(at - message.createdAt.getTime());
  const ended = new Set<string>();
  app.get(EventBus).on('call.transcript.completed', ({ callId }) => ended.add(callId));

  // Each call speaks a line every 100 ms on average: 100 lines in about 10 s, all calls at once.
  const started = Date.now();
  const callIds: string[] = [];
  await Promise.all(
    Array.from({ length: CALLS }, async (_, c) => {
      const conversation = script();
      for (let i = 0; i < LINES / 2; i++) {
        conversation.callerSays(`Question ${i} from caller ${c}?`).pause(100).agentSays(`Answer ${i} for caller ${c}.`).pause(100);
      }
      const { call } = await emulator.placeCall(`${bridgeUrl}/openai/webhook`, { script: conversation.hangup() });
      callIds.push(call.callId);
    }),
  );
  while (ended.size < CALLS) await new Promise((r) => setTimeout(r, 100));
  const callsDone = Date.now();
  await notifications.idle();
  const allDelivered = Date.now();

  // Per call, the transcript lines in the order Discord received them (headers say which call a line belongs to).
  const received = new Map<string, string[]>();
  let current = '';
  let inRecap = false; // the summary repeats the transcript: not a delivery of the lines
  for (const message of discord.messagesFor('bench')) {
    for (const line of message.content.split('\n')) {
      const header = /^\*\*📞 call …(\w+)\*\*$/.exec(line);
      if (header) {
        current = header[1];
        inRecap = false;
      } else if (line.startsWith('☎️')) inRecap = true;
      else if (!inRecap && /^(Caller|Agent): /.test(line)) received.set(current, [...(received.get(current) ?? []), line]);
    }
  }
  let lost = 0;
  let outOfOrder = 0;
  for (let c = 0; c < callIds.length; c++) {
    const lines = received.get(callIds[c].slice(-6)) ?? [];
    const caller = Number(/caller (\d+)/.exec(lines[0] ?? '')?.[1] ?? -1);
    const expected = Array.from({ length: LINES / 2 }, (_, i) => [`Caller: Question ${i} from caller ${caller}?`, `Agent: Answer ${i} for caller ${caller}.`]).flat();
    lost += expected.filter((line) => !lines.includes(line)).length;
    outOfOrder += lines.filter((line, i) => line !== expected[i]).length > 0 ? 1 : 0;
  }
  const rateLimited = discord.requests.filter((r) => r.status === 429).length;
  lags.sort((a, b) => a - b);
  const q = (p: number) => (lags[Math.min(lags.length - 1, Math.floor(p * lags.length))] / 1000).toFixed(1);

  await app.close();
  await emulator.stop();
  await discord.stop();

  const section = [
    '## Discord delivery',
    '',
    `${CALLS} concurrent calls × ${LINES} lines into one webhook limited to 5 requests / 2 s; the calls took ${((callsDone - started) / 1000).toFixed(0)} s,`,
    `the last notification was delivered ${((allDelivered - callsDone) / 1000).toFixed(0)} s after the last call ended.`,
    '',
    '| lines lost | calls out of order | messages | 429s received | lag p50 | lag p95 | lag p99 |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    `| ${lost} | ${outOfOrder} | ${discord.messagesFor('bench').length} | ${rateLimited} | ${q(0.5)} s | ${q(0.95)} s | ${q(0.99)} s |`,
    '',
    'Lag: from a notification being stored in the outbox to Discord accepting it. The webhook carries at most',
    '2.5 messages a second, so a burst of 10,000 lines is a queue by nature; the lag is that queue, not the bridge.',
  ].join('\n');
  return {
    section,
    targets: [
      { name: 'Nothing lost', goal: '0 of the lines lost', measured: `${lost} lost`, met: lost === 0 },
      { name: 'In order', goal: 'every call\'s lines in conversation order', measured: `${outOfOrder} call(s) out of order`, met: outOfOrder === 0 },
    ],
  };
}
