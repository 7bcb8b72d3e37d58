import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { OpenAIEmulator, newWebhookSecret, script, type EmulatedCall } from '#emulator';
import { TEST_API_KEY } from './support/harness.js';
import { BUILT_MAIN, emulatorEnv, listeningUrl, runBuiltBridge, type RunningProcess } from './support/process.js';
import { TEST_DATABASE_URL, createTestDatabase, type TestDatabase } from '#testing';

// Issue 20: a live call survives the loss of its replica. Two and three built bridges (real processes) share one
// PostgreSQL; the OpenAI emulator keeps a call going when the bridge's sideband closes (as OpenAI's SIP leg does) and
// allows at most one sideband on a call at a time. The owner is killed (-9) or drained (SIGTERM) mid-call, and
// another replica reopens the sideband and carries on: the stored transcript is complete, ordered and without a
// duplicate, and a tool called after the crash runs once.

// OpenAI does not document whether a second sideband may open on a call while one is open; the emulator answers it
// either way (409, or the new one replacing the old with 4409), and every case runs once per answer.
const describeReplicas = existsSync(BUILT_MAIN) && TEST_DATABASE_URL ? describe.each(['refuse', 'replace'] as const) : describe.skip.each(['refuse'] as const);
const LEASE_SECONDS = 2;

describeReplicas('calls survive their replica (PostgreSQL, built replicas, a second sideband: %s)', (secondSideband) => {
  const secret = newWebhookSecret();
  let emulator: OpenAIEmulator;
  let database: TestDatabase;
  let replicas: RunningProcess[];

  beforeAll(async () => {
    emulator = await new OpenAIEmulator({ apiKey: TEST_API_KEY, webhookSecret: secret, bridgeCloseEndsCall: false, secondSideband }).start();
  });
  afterAll(async () => emulator.stop());

  beforeEach(async () => {
    replicas = [];
    database = await createTestDatabase('postgres');
  });
  afterEach(async () => {
    for (const replica of replicas) replica.child.kill('SIGKILL');
    await Promise.all(replicas.map((replica) => replica.exited));
    await database.drop();
  });

  async function startReplica(): Promise<{ process: RunningProcess; webhookUrl: string }> {
    const process = runBuiltBridge({
      ...emulatorEnv(emulator, TEST_API_KEY, secret),
      DATABASE_URL: database.databaseUrl!,
      CALL_LEASE_SECONDS: String(LEASE_SECONDS),
      SIDEBAND_HANDSHAKE_BACKOFF_MS: '100',
      SHUTDOWN_DRAIN_SECONDS: '60',
      END_CALL_MAX_WAIT_MS: '500', // the script plays no goodbye after end_call
    });
    replicas.push(process);
    return { process, webhookUrl: `${await listeningUrl(process, 20_000)}/openai/webhook` };
  }

  /** The call's stored lines as `seq speaker: text`, once there are `count` of them. */
  async function storedLines(callId: string, count: number, timeoutMs = 15_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    let lines: string[] = [];
    while (Date.now() < deadline) {
      const rows = await database.db.selectFrom('transcript_lines').select(['seq', 'speaker', 'text']).where('call_id', '=', callId).orderBy('seq').execute();
      lines = rows.map((row) => `${row.seq} ${row.speaker}: ${row.text}`);
      if (lines.length >= count) return lines;
      await sleep(50);
    }
    throw new Error(`fewer than ${count} stored lines for ${callId}: ${JSON.stringify(lines)}`);
  }

  async function storedEnd(callId: string, timeoutMs = 15_000): Promise<{ status: string; end_reason: string | null }> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const row = await database.db.selectFrom('calls').select(['status', 'end_reason']).where('call_id', '=', callId).executeTakeFirst();
      if (row && row.status !== 'active') return row;
      await sleep(50);
    }
    throw new Error(`${callId} never ended in storage`);
  }

  /** Two turns, a gap in which the owner goes away, two more turns, then what `end` adds. */
  function conversation(gapMs: number, tag: string) {
    return script()
      .callerSays(`${tag} caller one`)
      .agentSays(`${tag} agent one`)
      .callerSays(`${tag} caller two`)
      .agentSays(`${tag} agent two`)
      .pause(gapMs)
      .callerSays(`${tag} caller three`)
      .agentSays(`${tag} agent three`);
  }
  const expected = (tag: string) =>
    ['caller one', 'agent one', 'caller two', 'agent two', 'caller three', 'agent three'].map((text, seq) => `${seq} ${text.split(' ')[0]}: ${tag} ${text}`);

  it('kill -9 of the owner mid-call: another replica reopens the sideband within lease + 3 s and the call goes on, a tool running once', async () => {
    const a = await startReplica();
    await startReplica();
    const { call } = (await emulator.placeCall(a.webhookUrl, {
      script: conversation(8000, 'k').toolCall('end_call', {}, { callId: 'call_end_after_crash' }).pause(5000).hangup(),
    }));
    await storedLines(call.callId, 4);
    a.process.child.kill('SIGKILL');
    const killedAt = performance.now();
    await call.waitForSideband(2, (LEASE_SECONDS + 3) * 1000 + 2000);
    const reopenedAfter = call.sidebands[1]!.openedAt - killedAt;
    expect(reopenedAfter).toBeLessThan((LEASE_SECONDS + 3) * 1000);
    // The rest of the conversation, on the new owner's sideband.
    await call.ended;
    expect(await storedLines(call.callId, 6)).toEqual(expected('k'));
    // end_call, called after the crash: answered once, the call hung up once.
    const outputs = call.clientEvents.filter((e) => e.type === 'conversation.item.create' && (e.item as { call_id?: string })?.call_id === 'call_end_after_crash');
    expect(outputs).toHaveLength(1);
    expect(emulator.requestsFor(call.callId, 'hangup')).toHaveLength(1);
    expect(await storedEnd(call.callId)).toEqual({ status: 'ended', end_reason: 'remote_closed' });
    const tools = await database.db.selectFrom('tool_invocations').select(['tool_call_id', 'status']).where('call_id', '=', call.callId).execute();
    expect(tools).toEqual([{ tool_call_id: 'call_end_after_crash', status: 'succeeded' }]);
  }, 60_000);

  it('SIGTERM of the owner with live calls: all handed over at once, the process exits in seconds, no line lost', async () => {
    const a = await startReplica();
    await startReplica();
    await startReplica();
    const CALLS = 6;
    const calls: EmulatedCall[] = [];
    for (let i = 0; i < CALLS; i++) {
      const { call } = (await emulator.placeCall(a.webhookUrl, { script: conversation(6000, `d${i}`).pause(300).hangup() }));
      calls.push(call);
    }
    await Promise.all(calls.map((call) => storedLines(call.callId, 4)));
    const signalled = performance.now();
    a.process.child.kill('SIGTERM');
    const exit = await a.process.exited;
    const exitedAfter = performance.now() - signalled;
    expect(exit.code).toBe(0);
    expect(exitedAfter).toBeLessThan(10_000);
    expect(a.process.output()).toMatch(new RegExp(`handed ${CALLS} live call\\(s\\) over`));
    await Promise.all(calls.map((call) => call.waitForSideband(2, 5000)));
    await Promise.all(calls.map((call) => call.ended));
    for (const [i, call] of calls.entries()) {
      expect(await storedLines(call.callId, 6)).toEqual(expected(`d${i}`));
      expect(await storedEnd(call.callId)).toEqual({ status: 'ended', end_reason: 'remote_closed' });
      // At most one sideband at a time: the second opened after the first closed.
      expect(call.sidebands).toHaveLength(2);
      expect(call.sidebands[1]!.openedAt).toBeGreaterThanOrEqual(call.sidebands[0]!.closedAt!);
    }
  }, 60_000);

  it('a call that ended while nobody watched it is closed as ended_unobserved, with what was said before', async () => {
    const a = await startReplica();
    await startReplica();
    const { call } = (await emulator.placeCall(a.webhookUrl, {
      script: script().callerSays('u caller one').agentSays('u agent one').pause(1000).hangup(),
    }));
    await storedLines(call.callId, 1);
    a.process.child.kill('SIGKILL');
    await call.ended;
    expect(await storedEnd(call.callId, (LEASE_SECONDS + 10) * 1000)).toEqual({ status: 'ended', end_reason: 'ended_unobserved' });
    const lines = await storedLines(call.callId, 1);
    expect(lines[0]).toBe('0 caller: u caller one');
    // Its lease is gone: nobody tries again.
    expect(await database.db.selectFrom('call_leases').selectAll().execute()).toEqual([]);
  }, 60_000);
});
