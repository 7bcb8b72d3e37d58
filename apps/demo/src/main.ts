/**
 * `npm run demo`: the whole service against the local OpenAI emulator, with no .env and no network.
 * It starts the bridge with embedded defaults and the example tenants file (examples/tenants.yaml: two agents on
 * two numbers), places one scripted call to each number, prints what happens, and exits 0. With `--console`
 * (`npm run demo -- --console`) it stays up afterwards with the web console serving the demo's calls, and prints its
 * URL and the token to sign in with (Ctrl-C stops it).
 */
import { performance } from 'node:perf_hooks';
import { startBridge } from '#bridge';
import { OpenAIEmulator, demoConversation, newWebhookSecret, script } from '#emulator';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { relative, resolve as resolvePath } from 'node:path';
import { EventBus, type RealtimeServerEvent } from '#events';
import { Notifications } from '#notifications';
import { CallRecordWriter } from '#transcripts';

const DEMO_KEY = 'sk-demo-local-emulator';
const KEEP_CONSOLE = process.argv.includes('--console');
/** The example next to the sources (dist/apps/demo/src/main.js → examples/tenants.yaml). */
const EXAMPLE_TENANTS = fileURLToPath(new URL('../../../../examples/tenants.yaml', import.meta.url));
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
  WELCOME_MESSAGE: process.env.WELCOME_MESSAGE ?? 'Thanks for calling, how can I help?',
  TENANTS_FILE: process.env.TENANTS_FILE ?? EXAMPLE_TENANTS,
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
const app = await startBridge({ port: KEEP_CONSOLE && process.env.PORT ? Number(process.env.PORT) : 0 });
const bridgeUrl = await app.getUrl();
const bus = app.get(EventBus);
const records = (path: string) =>
  fetch(`${bridgeUrl}${path}`, { headers: { authorization: `Bearer ${process.env.ADMIN_API_TOKEN}`, accept: 'text/plain' } });

console.log(bold('SIP → OpenAI Realtime bridge: demo calls against the local OpenAI emulator'));
say(`bridge listening on ${bridgeUrl}, emulator (OpenAI stand-in) on ${emulator.baseUrl}`);
const tenantsFile = relative(process.cwd(), process.env.TENANTS_FILE!);
say(`agent profiles from ${tenantsFile.startsWith('..') ? process.env.TENANTS_FILE : tenantsFile}: one call to each number`);
say(dim('│ lines are the Discord messages: transcript lines in conversation order, each as soon as it and everything'));
say(dim('│ before it are final (a late caller transcription still comes before the reply to it)'));

const timeout = setTimeout(() => {
  console.error('The demo calls did not finish within 30 s.');
  process.exit(1);
}, 30_000);

bus.on('call.accepted', ({ callId, context, profile }) =>
  say(
    `${green('accepted')} ${callId}  from ${context.callerNumber ?? context.fromUri ?? 'unknown'} to ${context.dialledNumber ?? '?'}` +
      `  ${bold(`profile ${profile}`)}`,
  ),
);
bus.on('sideband.connected', ({ attempts }) => say(`${green('sideband')} connected (attempt ${attempts})`));
bus.on('realtime.event', ({ event }) => {
  const line = describe(event);
  if (line) say(line);
});
bus.on('call.ended', ({ reason, acceptedAt, endedAt, closeCode }) =>
  say(`${green('ended')} reason=${reason} close=${closeCode ?? '-'} after ${((endedAt.getTime() - acceptedAt.getTime()) / 1000).toFixed(2)}s`),
);

const calls = [
  { to: '+18005551212', conversation: demoConversation() },
  { to: '+18005553434', conversation: salesConversation() },
];
const placed = [];
for (const { to, conversation } of calls) {
  console.log();
  say(`${cyan('webhook')} OpenAI → POST /openai/webhook (realtime.call.incoming for a call to ${to}, signed)`);
  const transcribed = new Promise<void>((resolve) => {
    const off = bus.on('call.transcript.completed', ({ callId }) => {
      if (callId === call.callId) {
        off();
        resolve();
      }
    });
  });
  const call = emulator.createCall({ to, script: conversation });
  const delivery = await emulator.deliver(`${bridgeUrl}/openai/webhook`, JSON.stringify(emulator.incomingEvent(call)));
  say(`${cyan('webhook')} answered ${delivery.status}`);
  await transcribed;
  await app.get(Notifications).idle();
  placed.push(call);
}

await app.get(CallRecordWriter).flush();
for (const call of placed) {
  const record = (await records(`/calls/${call.callId}`).then((r) => r.json())) as { profile: string; metadata: unknown; endReason: string };
  const stored = await records(`/calls/${call.callId}/transcript`).then((r) => r.text());
  console.log();
  console.log(bold(`The stored record (GET /calls/${call.callId}): profile ${record.profile}, metadata ${JSON.stringify(record.metadata)}`));
  console.log(stored.trimEnd().replace(/^/gm, '  '));
}
const globex = (await records('/calls?profile=globex-sales').then((r) => r.json())) as { calls: unknown[] };
console.log(dim(`  GET /calls?profile=globex-sales finds ${globex.calls.length} call(s) of that profile among those stored`));
console.log(dim(`  stored in ${resolvePath(process.env.DATA_DIR!, 'bridge.sqlite')} (set DATABASE_URL for PostgreSQL)`));

console.log();
console.log(bold('What the emulator recorded: one accept body per profile'));
for (const call of placed) {
  const [accept] = emulator.requestsFor(call.callId, 'accept');
  const body = accept?.body as
    | { model?: string; instructions?: string; audio?: { output?: { voice?: string } }; tools?: Array<{ name: string }> }
    | undefined;
  const knowledge = body?.instructions?.includes('\n## Knowledge\n') ? 'with the knowledge snippets' : 'no knowledge';
  console.log(
    `  accept ${call.callId}: model=${body?.model} voice=${body?.audio?.output?.voice} ` +
      `tools=${(body?.tools ?? []).map((t) => t.name).join(',') || 'none'}; instructions "${body?.instructions?.split('\n')[0].slice(0, 60)}…" ${knowledge}`,
  );
  console.log(`  client events from the bridge: ${call.clientEvents.map((e) => e.type).join(', ') || 'none'}`);
}
clearTimeout(timeout);
if (KEEP_CONSOLE) {
  const consoleUrl = `${bridgeUrl.replace('[::1]', '127.0.0.1')}/console/`;
  console.log();
  console.log(bold('The console is up with the demo calls in it:'));
  console.log(`  ${consoleUrl}`);
  console.log(`  sign in with the admin token ${process.env.ADMIN_API_TOKEN}`);
  console.log(dim('  Ctrl-C stops the bridge and the emulator.'));
  const stop = async () => {
    await app.close();
    await emulator.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
} else {
  await app.close();
  await emulator.stop();
  console.log(green('\nDemo finished.'));
  process.exit(0);
}

/** The second demo call: a quote request to Globex's sales line, answered by its own agent. */
function salesConversation() {
  return script()
    .expect('response.create', 5000)
    .agentSays('Globex sales, you are speaking with the virtual assistant. How can I help?')
    .pause(120)
    .callerSays("Hi, I'd like a quote for two hundred widgets.")
    .agentSays('Happy to help. By when do you need them, and what is your name?')
    .callerSays('By the end of the month. This is Sam.')
    .agentSays('Thanks, Sam. A salesperson will call you back within one working day. Goodbye!')
    .pause(120)
    .hangup();
}

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
