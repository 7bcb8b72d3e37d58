import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FakeDiscord, OpenAIEmulator, newWebhookSecret, script } from '#emulator';
import { TEST_API_KEY } from './support/harness.js';
import { BUILT_MAIN, runBuiltBridge, type RunningProcess, listeningUrl, waitForPendingOutbox, emulatorEnv } from './support/process.js';

const describeBuilt = existsSync(BUILT_MAIN) ? describe : describe.skip;


describeBuilt('notifications across a crash', () => {
  const secret = newWebhookSecret();
  let emulator: OpenAIEmulator;
  const bridges: RunningProcess[] = [];
  beforeAll(async () => {
    emulator = await new OpenAIEmulator({ apiKey: TEST_API_KEY, webhookSecret: secret }).start();
  });
  afterAll(async () => {
    for (const bridge of bridges) bridge.child.kill('SIGKILL');
    await emulator.stop();
  });

  it('delivers every pending line, in order, after the process is killed and started again', async () => {
    // Discord is unreachable while the call happens: its port is closed.
    const probe = await new FakeDiscord().start();
    const port = Number(new URL(probe.baseUrl).port);
    const url = probe.webhookUrl('crash');
    await probe.stop();

    const dataDir = mkdtempSync(join(tmpdir(), 'bridge-crash-'));
    const env = {
      ...emulatorEnv(emulator, TEST_API_KEY, secret),
      DATA_DIR: dataDir,
      DISCORD_WEBHOOK_URL: url,
      NOTIFY_MAX_BACKOFF_MS: '200',
    };
    const first = runBuiltBridge(env);
    bridges.push(first);
    const bridgeUrl = await listeningUrl(first);
    const conversation = script();
    for (let i = 0; i < 10; i++) conversation.callerSays(`Caller line ${i}`).agentSays(`Agent line ${i}`);
    const { call } = await emulator.placeCall(`${bridgeUrl}/openai/webhook`, { script: conversation.hangup() });
    await call.ended;
    // Announcement, 20 lines and the summary, all stored and none delivered.
    await waitForPendingOutbox(join(dataDir, 'bridge.sqlite'), 22);
    first.child.kill('SIGKILL');
    await first.exited;

    const discord = await new FakeDiscord({ port }).start();
    discord.webhookUrl('crash', url.split('/').pop()); // the same webhook as before the crash
    const second = runBuiltBridge(env);
    bridges.push(second);
    await second.waitForOutput(/resuming delivery of 22 undelivered notification/);
    const messages = await discord.waitForMessages('crash', 1, 10_000);
    await second.waitForOutput(/listening on/);
    // Wait until the summary (the last notification) is there.
    for (let i = 0; i < 100 && !discord.messagesFor('crash').some((m) => m.content.includes('Call ended')); i++) await sleep(50);
    const text = discord.messagesFor('crash').map((m) => m.content).join('\n');
    const lines = text.split('\n').filter((l) => /^(Caller|Agent): (Caller|Agent) line \d$/.test(l));
    const expected = Array.from({ length: 10 }, (_, i) => [`Caller: Caller line ${i}`, `Agent: Agent line ${i}`]).flat();
    expect(lines.slice(0, 20)).toEqual(expected);
    expect(text.indexOf('Incoming call')).toBeLessThan(text.indexOf('Caller: Caller line 0'));
    expect(messages.length).toBeGreaterThan(0);
    await discord.stop();
  });
});
