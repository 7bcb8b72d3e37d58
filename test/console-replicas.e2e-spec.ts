import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { script } from '#emulator';
import { TEST_DATABASE_URL, createTestDatabase, type TestDatabase } from '#testing';
import { startHarness, type Harness } from './support/harness.js';
import { SseClient } from './support/sse.js';

// With several replicas on one PostgreSQL, a console connected to any replica sees every replica's calls, and a
// browser that reconnects to another replica resumes where it was (the feed's ids are the shared log's).

const TOKEN = 'console-replicas-token-0123456789';
const describePostgres = TEST_DATABASE_URL ? describe : describe.skip;

interface FeedEvent { type: string; callId?: string; item?: { kind: string; seq?: number; text?: string }; call?: { callId: string; status: string } }

describePostgres('the console feed across replicas on PostgreSQL', () => {
  let database: TestDatabase;
  let a: Harness;
  let b: Harness;
  const streams: SseClient[] = [];
  const signIn = async (h: Harness) => {
    const response = await fetch(`${h.baseUrl}/console/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: TOKEN }) });
    return response.headers.get('set-cookie')!.split(';')[0];
  };

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    const env = { ADMIN_API_TOKEN: TOKEN, DATABASE_URL: database.databaseUrl! };
    a = await startHarness(env);
    b = await startHarness(env);
  }, 30_000);
  afterAll(async () => {
    for (const stream of streams) await stream.close();
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  it('shows replica A\'s call on a console connected to replica B, and resumes on A from B\'s last id without a gap', async () => {
    // A session signed on one replica is good on the other (the same key, nothing stored).
    const cookie = await signIn(b);
    const onB = await SseClient.open(`${b.baseUrl}/console/api/feed`, { cookie });
    streams.push(onB);
    expect(onB.status).toBe(200);
    await onB.waitForJson<FeedEvent>((e) => e.type === 'hello');

    const turns = Array.from({ length: 4 }, (_, i) => i);
    const conversation = script();
    for (const i of turns) conversation.callerSays(`Caller says ${i}`).agentSays(`Agent says ${i}`).pause(150);
    const { call } = await a.emulator.placeCall(a.webhookUrl, { script: conversation.hangup() });

    const seen = await onB.waitForJson<FeedEvent>((e) => e.type === 'call' && e.call?.callId === call.callId, 5000);
    expect(seen.call!.status).toBe('active');
    await onB.waitForJson<FeedEvent>((e) => e.callId === call.callId && e.item?.kind === 'line' && e.item.seq === 1, 5000);
    const lastOnB = onB.lastEventId!;
    await onB.close();
    const before = onB.json<FeedEvent>();

    // The call goes on and ends; the browser comes back, this time to replica A.
    await a.bus.waitFor('call.transcript.completed', (e) => e.callId === call.callId, 10_000);
    const onA = await SseClient.open(`${a.baseUrl}/console/api/feed`, { cookie, 'last-event-id': lastOnB });
    streams.push(onA);
    await onA.waitForJson<FeedEvent>((e) => e.type === 'call' && e.call?.callId === call.callId && e.call.status === 'ended', 5000);

    const lines = [...before, ...onA.json<FeedEvent>()]
      .filter((e) => e.callId === call.callId && e.item?.kind === 'line')
      .map((e) => `${e.item!.seq}: ${e.item!.text}`);
    expect(lines).toEqual(turns.flatMap((i) => [`${i * 2}: Caller says ${i}`, `${i * 2 + 1}: Agent says ${i}`]));
    const ids = [...onB.messages, ...onA.messages].map((m) => m.id).filter((id) => id !== undefined);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.map(Number)).toEqual([...ids.map(Number)].sort((x, y) => x - y));
  }, 30_000);
});
