/**
 * `npm run demo`: the whole service against the local OpenAI emulator, with no .env and no network.
 * It starts the bridge with embedded defaults, places one scripted call, prints what happens, and exits 0.
 */
import { performance } from 'node:perf_hooks';
import { startBridge } from '#bridge';
import { OpenAIEmulator, demoConversation, newWebhookSecret } from '#emulator';
import { randomBytes } from 'node:crypto';
import { resolve as resolvePath } from 'node:path';
import { EventBus, type RealtimeServerEvent } from '#events';
import { Notifications } from '#notifications';
import { CallRecordWriter } from '#transcripts';

const DEMO_KEY = 'sk-demo-local-emulator';
const secret = newWebhookSecret();
const style = (code: number) => (text: string) => (process.stdout.isTTY ? `\x1b[${code}m${text}\x1b[0m` : text);
const dim = style(2);
const bold = style(1);
const green = style(32);
const cyan = style(36);
const t0 = performance.now();
const say = (line: string) => console.log(`${dim(`${((performance.now() - t0) / 1000).toFixed(2).padStart(6)}s`)}  ${line}`);

const emulator = await new OpenAIEmulator({ apiKey: DEMO_KEY, webhookSecret: secret }).start();
Object.assign(process.env, {
  OPENAI_API_KEY: DEMO_KEY,
  OPENAI_WEBHOOK_SECRET: secret,
  OPENAI_BASE_URL: emulator.baseUrl,
  HOST: '127.0.0.1',
  WELCOME_MESSAGE: process.env.WELCOME_MESSAGE ?? 'Thanks for calling Acme, how can I help?',
  DATA_DIR: process.env.DATA_DIR ?? 'data',
  ADMIN_API_TOKEN: randomBytes(18).toString('base64url'),
  TRANSCRIPT_PLACEHOLDER_MS: '1500',
  // No Discord here: the console sink prints each notification exactly as it would be posted (│ lines).
  NOTIFY_CONSOLE: 'true',
  DISCORD_WEBHOOK_URL: '',
  // The bridge's own log lines, made readable for a terminal (production writes JSON lines).
  LOG_FORMAT: 'pretty',
  LOG_LEVEL: process.env.LOG_LEVEL ?? 'log',
});
const app = await startBridge({ port: 0 });
const bridgeUrl = await app.getUrl();
const bus = app.get(EventBus);

console.log(bold('SIP → OpenAI Realtime bridge: demo call against the local OpenAI emulator'));
say(`bridge listening on ${bridgeUrl}, emulator (OpenAI stand-in) on ${emulator.baseUrl}`);
say(dim('│ lines are the Discord messages: transcript lines in conversation order, each as soon as it and everything'));
say(dim('│ before it are final (a late caller transcription still comes before the reply to it)'));

const timeout = setTimeout(() => {
  console.error('The demo call did not finish within 30 s.');
  process.exit(1);
}, 30_000);

const ended = new Promise<void>((resolve) => {
  bus.on('call.accepted', ({ callId, context }) =>
    say(`${green('accepted')} ${callId}  from ${context.callerNumber ?? context.fromUri ?? 'unknown'} to ${context.dialledNumber ?? '?'}`),
  );
  bus.on('sideband.connected', ({ attempts }) => say(`${green('sideband')} connected (attempt ${attempts})`));
  bus.on('realtime.event', ({ event }) => {
    const line = describe(event);
    if (line) say(line);
  });
  bus.on('call.ended', ({ reason, acceptedAt, endedAt, closeCode }) => {
    say(`${green('ended')} reason=${reason} close=${closeCode ?? '-'} after ${((endedAt.getTime() - acceptedAt.getTime()) / 1000).toFixed(2)}s`);
    resolve();
  });
});

say(`${cyan('webhook')} OpenAI → POST /openai/webhook (realtime.call.incoming, signed)`);
const { call, delivery } = await emulator.placeCall(`${bridgeUrl}/openai/webhook`, { script: demoConversation() });
say(`${cyan('webhook')} answered ${delivery.status}`);
await ended;

await app.get(CallRecordWriter).flush();
await app.get(Notifications).idle();
const stored = await fetch(`${bridgeUrl}/calls/${call.callId}/transcript`, {
  headers: { authorization: `Bearer ${process.env.ADMIN_API_TOKEN}`, accept: 'text/plain' },
}).then((r) => r.text());
console.log();
console.log(bold(`The stored record (GET /calls/${call.callId}/transcript)`));
console.log(stored.trimEnd().replace(/^/gm, '  '));
console.log(dim(`  stored in ${resolvePath(process.env.DATA_DIR!, 'bridge.sqlite')} (set DATABASE_URL for PostgreSQL)`));

const [accept] = emulator.requestsFor(call.callId, 'accept');
const body = accept?.body as { model?: string; audio?: { output?: { voice?: string } } } | undefined;
console.log();
console.log(bold('What the emulator recorded'));
console.log(`  accept: model=${body?.model} voice=${body?.audio?.output?.voice}`);
console.log(`  client events from the bridge: ${call.clientEvents.map((e) => e.type).join(', ') || 'none'}`);
clearTimeout(timeout);
await app.close();
await emulator.stop();
console.log(green('\nDemo finished.'));
process.exit(0);

/** One readable line for the events a person cares about; the rest are summarised by type. */
function describe(event: RealtimeServerEvent): string | undefined {
  switch (event.type) {
    case 'session.created':
      return dim('event session.created');
    case 'input_audio_buffer.dtmf_event_received':
      return dim(`event caller pressed ${String(event.event)}`);
    case 'response.done': {
      const status = (event.response as { status?: string } | undefined)?.status;
      return status === 'cancelled' ? dim('event agent interrupted by the caller') : undefined;
    }
    case 'error':
      return dim(`event error (recoverable): ${String((event.error as { message?: string })?.message)}`);
    default:
      return undefined;
  }
}
