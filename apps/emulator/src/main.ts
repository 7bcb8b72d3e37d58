/**
 * The OpenAI emulator as a standalone server, for trying the bridge by hand or in docker compose:
 * call-control REST and the sideband WebSocket on EMULATOR_PORT, and (with BRIDGE_WEBHOOK_URL) scripted calls
 * placed to the bridge once it is ready, every EMULATOR_CALL_EVERY_SECONDS (0: one call).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { OpenAIEmulator, demoConversation } from '#emulator';
import { withTimeoutOr } from '#resilience';

const port = Number(process.env.EMULATOR_PORT ?? 8090);
const apiKey = process.env.EMULATOR_API_KEY ?? 'sk-emulator';
const webhookSecret = process.env.EMULATOR_WEBHOOK_SECRET;
const bridgeWebhookUrl = process.env.BRIDGE_WEBHOOK_URL;
const every = Number(process.env.EMULATOR_CALL_EVERY_SECONDS ?? 0);

if (!webhookSecret) {
  console.error('EMULATOR_WEBHOOK_SECRET must be set (the same value as the bridge\'s OPENAI_WEBHOOK_SECRET).');
  process.exit(1);
}

const emulator = await new OpenAIEmulator({ apiKey, webhookSecret, port, host: process.env.EMULATOR_HOST ?? '0.0.0.0' }).start();
console.log(`OpenAI emulator listening: OPENAI_BASE_URL=http://<this host>:${port}/v1`);

const stop = async () => {
  await emulator.stop();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);

if (bridgeWebhookUrl) {
  const health = new URL('/health/ready', bridgeWebhookUrl).toString();
  while (!(await fetch(health).then((r) => r.ok, () => false))) await sleep(1000);
  do {
    const { call, delivery } = await emulator.placeCall(bridgeWebhookUrl, { script: demoConversation(400) });
    console.log(`placed call ${call.callId}: webhook answered ${delivery.status}`);
    const end = await withTimeoutOr(call.ended, 60_000, undefined);
    console.log(`call ${call.callId} ended: ${end ? `closed by ${end.by} (${end.code})` : 'still open after 60 s'}`);
    if (every > 0) await sleep(every * 1000);
  } while (every > 0);
}
