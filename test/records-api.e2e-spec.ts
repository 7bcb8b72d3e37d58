import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { script } from '#emulator';
import { CallRecordWriter } from '#transcripts';
import { startHarness, type Harness } from './support/harness.js';

const TOKEN = 'records-api-token-abcdef0123456789';
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
const json = (response: Response): Promise<any> => response.json();

describe('records API', () => {
  let h: Harness;
  const callIds: string[] = [];
  const get = (path: string, token: string | null = TOKEN, headers: Record<string, string> = {}) =>
    fetch(`${h.baseUrl}${path}`, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });

  beforeAll(async () => {
    h = await startHarness({ ADMIN_API_TOKEN: TOKEN });
    // Three finished calls, oldest first: two from one caller, one from another.
    for (const from of ['+14155550001', '+14155550002', '+14155550001']) {
      const { call } = await h.emulator.placeCall(h.webhookUrl, { from, script: script().callerSays(`Hi from ${from}`).agentSays('Hello!').hangup() });
      await h.bus.waitFor('call.transcript.completed', (e) => e.callId === call.callId);
      callIds.push(call.callId);
    }
    await h.app.get(CallRecordWriter).flush();
  });
  afterAll(async () => h.close());

  it.each([
    ['no token', null],
    ['a wrong token', 'records-api-token-abcdef0123456780'],
    ['a token of another length', 'short'],
  ])('answers 401 with %s', async (_name, token) => {
    for (const path of ['/calls', `/calls/${callIds[0]}`, `/calls/${callIds[0]}/transcript`]) {
      const response = await get(path, token);
      expect(response.status).toBe(401);
      expect(JSON.stringify(await response.json())).not.toContain('Hi from');
    }
  });

  it('lists calls newest first, one page at a time', async () => {
    const first = await get('/calls?limit=2').then(json);
    expect(first.calls.map((c: { callId: string }) => c.callId)).toEqual([callIds[2], callIds[1]]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await get(`/calls?limit=2&cursor=${encodeURIComponent(first.nextCursor)}`).then(json);
    expect(second.calls.map((c: { callId: string }) => c.callId)).toEqual([callIds[0]]);
    expect(second.nextCursor).toBeUndefined();
  });

  it('filters by number and by time', async () => {
    const byNumber = await get('/calls?number=%2B14155550001').then(json);
    expect(byNumber.calls.map((c: { callId: string }) => c.callId)).toEqual([callIds[2], callIds[0]]);
    const future = new Date(Date.now() + 60_000).toISOString();
    const none = await get(`/calls?from=${encodeURIComponent(future)}`).then(json);
    expect(none.calls).toEqual([]);
    const all = await get(`/calls?to=${encodeURIComponent(future)}&profile=default`).then(json);
    expect(all.calls).toHaveLength(3);
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=1000', 'limit'],
    ['limit=ten', 'limit'],
    ['number=12345', 'number'],
    ['from=yesterday', 'from'],
    ['unknown=1', 'unknown'],
  ])('answers 400 to a bad query (%s) with a message naming it', async (query, field) => {
    const response = await get(`/calls?${query}`);
    expect(response.status).toBe(400);
    const body = await json(response);
    expect(JSON.stringify(body.message)).toContain(field);
  });

  it('answers 400 to a cursor that is not one of ours', async () => {
    expect((await get('/calls?cursor=not-a-cursor')).status).toBe(400);
  });

  it('returns a call record and 404 for an unknown call', async () => {
    const record = await get(`/calls/${callIds[1]}`).then(json);
    expect(record).toMatchObject({ callId: callIds[1], callerNumber: '+14155550002', status: 'ended' });
    expect((await get('/calls/rtc_doesnotexist')).status).toBe(404);
    expect((await get('/calls/..%2F..%2Fetc')).status).toBe(404);
  });

  it('records a call whose caller hung up before the accept as rejected', async () => {
    const call = h.emulator.createCall();
    call.acceptFaults.push({ status: 404, body: { error: { code: 'call_id_not_found' } } });
    await h.emulator.deliver(h.webhookUrl, JSON.stringify(h.emulator.incomingEvent(call)));
    await h.app.get(CallRecordWriter).flush();
    const record = await get(`/calls/${call.callId}`).then(json);
    expect(record).toMatchObject({ callId: call.callId, status: 'rejected', endReason: 'caller_gone' });
  });

  it('returns the transcript as JSON or as Caller:/Agent: text', async () => {
    const transcript = await get(`/calls/${callIds[0]}/transcript`).then(json);
    expect(transcript.lines.map((l: { speaker: string; text: string }) => `${l.speaker}:${l.text}`)).toEqual(['caller:Hi from +14155550001', 'agent:Hello!']);
    const text = await get(`/calls/${callIds[0]}/transcript`, TOKEN, { accept: 'text/plain' });
    expect(text.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await text.text()).toBe('Caller: Hi from +14155550001\nAgent: Hello!\n');
  });
});

describe('records API without ADMIN_API_TOKEN', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  it('does not exist', async () => {
    expect((await fetch(`${h.baseUrl}/calls`, { headers: { authorization: 'Bearer anything-at-all-123456' } })).status).toBe(404);
  });
});
