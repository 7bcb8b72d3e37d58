import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { FakeDiscord, OpenAIEmulator, newWebhookSecret, script } from '#emulator';
import { TEST_API_KEY } from './support/harness.js';
import { BUILT_MAIN, emulatorEnv, listeningUrl, runBuiltBridge, type RunningProcess } from './support/process.js';
import { TEST_DATABASE_URL, createTestDatabase, type TestDatabase } from '#testing';

/** Replicas share an outbox only on PostgreSQL (SQLite in a data directory serves one process). */
const describeReplicas = existsSync(BUILT_MAIN) && TEST_DATABASE_URL ? describe : describe.skip;

const TURNS = 6;
const EXPECTED_LINES = Array.from({ length: TURNS }, (_, i) => [`Caller: Caller line ${i}`, `Agent: Agent line ${i}`]).flat();
/** The announcement, every line, and the summary. */
const NOTIFICATIONS = TURNS * 2 + 2;
const TAKEN_OVER = /taking over, from a process that stopped, (\d+) undelivered notification/;
/** A replica's lease round (renewal and adoption) has run: logged at debug level. */
const LEASE_ROUND = /notification lease round done: (\d+) taken over/;

describeReplicas('notifications shared by two replicas on one PostgreSQL', () => {
  const secret = newWebhookSecret();
  let emulator: OpenAIEmulator;
  let database: TestDatabase;
  let bridges: RunningProcess[];
  let discordPort: number;
  let discordUrl: string;
  let discord: FakeDiscord | undefined;

  beforeAll(async () => {
    emulator = await new OpenAIEmulator({ apiKey: TEST_API_KEY, webhookSecret: secret }).start();
  });
  afterAll(async () => emulator.stop());

  beforeEach(async () => {
    bridges = [];
    database = await createTestDatabase('postgres');
    // Discord is unreachable while the call happens (its port is closed), so every notification stays pending.
    const probe = await new FakeDiscord().start();
    discordPort = Number(new URL(probe.baseUrl).port);
    discordUrl = probe.webhookUrl('shared');
    await probe.stop();
  });
  afterEach(async () => {
    for (const bridge of bridges) bridge.child.kill('SIGKILL');
    await Promise.all(bridges.map((bridge) => bridge.exited));
    await discord?.stop();
    discord = undefined;
    await database.drop();
  });

  function startReplica(leaseSeconds: number): RunningProcess {
    const bridge = runBuiltBridge({
      ...emulatorEnv(emulator, TEST_API_KEY, secret),
      DATABASE_URL: database.databaseUrl!,
      DISCORD_WEBHOOK_URL: discordUrl,
      NOTIFY_MAX_BACKOFF_MS: '200',
      NOTIFY_LEASE_SECONDS: String(leaseSeconds),
      LOG_LEVEL: 'debug', // for LEASE_ROUND
    });
    bridges.push(bridge);
    return bridge;
  }

  /** A call answered by `replica`, whose notifications all end up pending; resolves with who holds them. */
  async function callThrough(replica: RunningProcess): Promise<string[]> {
    const conversation = script();
    for (let i = 0; i < TURNS; i++) conversation.callerSays(`Caller line ${i}`).agentSays(`Agent line ${i}`);
    const { call } = await emulator.placeCall(`${await listeningUrl(replica)}/openai/webhook`, { script: conversation.hangup() });
    await call.ended;
    for (let i = 0; i < 200; i++) {
      const rows = await database.db.selectFrom('notification_outbox').select('owner').where('status', '=', 'pending').orderBy('id').execute();
      if (rows.length >= NOTIFICATIONS) return rows.map((row) => row.owner ?? '');
      await sleep(50);
    }
    throw new Error(`the outbox never held ${NOTIFICATIONS} pending notifications`);
  }

  /** Opens Discord, then returns the lines it received once the summary is there. */
  async function deliveredLines(): Promise<string[]> {
    discord = await new FakeDiscord({ port: discordPort }).start();
    discord.webhookUrl('shared', discordUrl.split('/').pop()); // the same webhook as before
    for (let i = 0; i < 300 && !discord.messagesFor('shared').some((m) => m.content.includes('Call ended')); i++) await sleep(50);
    const text = discord.messagesFor('shared').map((m) => m.content).join('\n');
    expect(text.split('Incoming call')).toHaveLength(2); // announced once
    expect(text.split('Call ended')).toHaveLength(2); // summarised once
    // The lines as they went out live: the summary ends with a recap of the whole transcript.
    const live = text.slice(0, text.indexOf('Call ended'));
    return live.split('\n').filter((line) => /^(Caller|Agent): (Caller|Agent) line \d+$/.test(line));
  }

  /**
   * The rows still pending, once there are none or after `timeoutMs`: a delivery is recorded just after Discord
   * answers it, so a moment after the message is seen there.
   */
  async function pendingOnceRecorded(timeoutMs = 5000): Promise<Array<{ status: string }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = await database.db.selectFrom('notification_outbox').select('status').where('status', '=', 'pending').execute();
      if (rows.length === 0 || Date.now() > deadline) return rows;
      await sleep(50);
    }
  }

  it('a replica that starts leaves alone what a live one is sending; one that stops hands it over, sent once, in order', async () => {
    // Leases of 9 s, renewed and looked over every 3 s: a hand-over comes within a round of the stop, a lease
    // running out at least 6 s after it.
    const first = startReplica(9);
    const owners = await callThrough(first);
    expect(new Set(owners).size).toBe(1);

    const second = startReplica(9);
    await listeningUrl(second);
    // Its start-up adoption (done before it listens) and its first round: it takes nothing the first replica holds.
    const [, takenInRound] = await second.waitForOutput(LEASE_ROUND, 10_000);
    expect(Number(takenInRound)).toBe(0);
    expect(second.output()).not.toMatch(/resuming delivery|taking over/);
    const held = await database.db.selectFrom('notification_outbox').select('owner').where('status', '=', 'pending').orderBy('id').execute();
    expect(held.map((row) => row.owner)).toEqual(owners);

    first.child.kill('SIGTERM'); // drains, cannot deliver, and lets go of what it holds
    expect((await first.exited).code).toBe(0);
    const stoppedAt = Date.now();
    expect(first.output()).toMatch(/notification\(s\) undelivered; another replica or the next start sends the stored ones/);
    const [, count] = await second.waitForOutput(TAKEN_OVER, 10_000);
    expect(Number(count)).toBe(NOTIFICATIONS);
    expect(Date.now() - stoppedAt).toBeLessThan(5000); // handed over, not run out

    expect(await deliveredLines()).toEqual(EXPECTED_LINES);
  });

  it("a replica's notifications are sent by the other when it is killed, once its leases run out", async () => {
    const first = startReplica(2);
    const second = startReplica(2);
    await listeningUrl(second);
    await callThrough(first);

    first.child.kill('SIGKILL');
    await first.exited;
    const [, count] = await second.waitForOutput(TAKEN_OVER, 8000);
    expect(Number(count)).toBe(NOTIFICATIONS);

    expect(await deliveredLines()).toEqual(EXPECTED_LINES);
    expect(await pendingOnceRecorded()).toEqual([]);
  });
});
