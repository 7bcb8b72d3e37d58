import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { CallSessions } from '#calls';
import { script, type HangupClose } from '#emulator';
import { CallRecordWriter } from '#transcripts';
import { startHarness, storedTranscript, type Harness } from './support/harness.js';
import { sample, scrape } from './support/metrics.js';

const TOKEN = 'sideband-tolerance-token-0123456789';

/** What a real Realtime server may do that ours did not: the bridge takes each in its stride, and counts it. */
describe('a sideband that behaves like a real server', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ ADMIN_API_TOKEN: TOKEN, WELCOME_MESSAGE: 'Hello from the test.' });
  });
  afterAll(async () => h?.close());
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('counts event types and fields it does not know, logs each once, and goes on with the call', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const before = await scrape(h.baseUrl);
    const conversation = script()
      .send({ type: 'response.future_thing', event_id: 'event_f1', payload: { a: 1 } })
      .send({ type: 'response.future_thing', event_id: 'event_f2' })
      .send({ type: 'session.updated', event_id: 'event_s1', session: {}, server_hint: 'x', trace_id: 'y' })
      .callerSays('Hello?')
      .agentSays('Hi there.')
      .hangup();
    const { call } = await h.emulator.placeCall(h.webhookUrl, { script: conversation });
    expect(await storedTranscript(h, TOKEN, call.callId)).toEqual(['caller: Hello?', 'agent: Hi there.']);
    const after = await scrape(h.baseUrl);
    const delta = (name: string, labels?: Record<string, string>) => sample(after, name, labels) - sample(before, name, labels);
    expect(delta('bridge_realtime_unknown_event_types_total')).toBe(2);
    expect(delta('bridge_realtime_unknown_fields_total', { type: 'session.updated' })).toBe(2);
    expect(delta('bridge_realtime_events_total', { type: 'other' })).toBe(2);
    // Unknown events still reach the bus (a listener of an engineer's may want them).
    expect(h.bus.of('realtime.event', (e) => e.callId === call.callId && e.event.type === 'response.future_thing')).toHaveLength(2);
    const lines = warn.mock.calls.map((c) => String(c[0]));
    expect(lines.filter((l) => l.includes('"response.future_thing"'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('session.updated carries a field'))).toHaveLength(2);
    expect(lines.join('\n')).not.toContain('{"a":1}');
  });

  it('counts binary frames and reads every event after them', async () => {
    const before = await scrape(h.baseUrl);
    const conversation = script().binary(320).callerSays('Are you there?').binary(16).agentSays('Yes.').hangup();
    const { call } = await h.emulator.placeCall(h.webhookUrl, { script: conversation });
    expect(await storedTranscript(h, TOKEN, call.callId)).toEqual(['caller: Are you there?', 'agent: Yes.']);
    const after = await scrape(h.baseUrl);
    expect(sample(after, 'bridge_sideband_ignored_frames_total', { kind: 'binary' }) - sample(before, 'bridge_sideband_ignored_frames_total', { kind: 'binary' })).toBe(2);
  });

  it.each(['late', 'never'] as const)('does not wait for session.created (%s): greeting and transcript as usual', async (when) => {
    const conversation = script().callerSays('Good morning.').agentSays('Good morning to you.').pause(50).hangup();
    const call = h.emulator.createCall({ script: conversation });
    call.sessionCreated = when;
    await h.emulator.deliver(h.webhookUrl, JSON.stringify(h.emulator.incomingEvent(call)));
    await call.waitForClientEvent('response.create');
    expect(await storedTranscript(h, TOKEN, call.callId)).toEqual(['caller: Good morning.', 'agent: Good morning to you.']);
    const types = h.bus.of('realtime.event', (e) => e.callId === call.callId).map((e) => e.event.type);
    if (when === 'never') expect(types).not.toContain('session.created');
    else expect(types.indexOf('session.created')).toBeGreaterThan(0);
  });

  it.each([
    ['no-status', 1005],
    ['abnormal', 1006],
  ] as Array<[HangupClose, number]>)('ends the call on a close %s (%i), keeps its transcript and closes its record', async (how, code) => {
    const conversation = script().callerSays('Bye now.').agentSays('Goodbye.').hangup(how);
    const { call } = await h.emulator.placeCall(h.webhookUrl, { script: conversation });
    const ended = await h.bus.waitFor('call.ended', (e) => e.callId === call.callId);
    expect(ended.closeCode).toBe(code);
    expect(ended.reason).toBe('remote_closed');
    expect(h.app.get(CallSessions).has(call.callId)).toBe(false);
    expect(await storedTranscript(h, TOKEN, call.callId)).toEqual(['caller: Bye now.', 'agent: Goodbye.']);
    const record = await fetch(`${h.baseUrl}/calls/${call.callId}`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.json());
    expect(record).toMatchObject({ status: 'ended', endReason: ended.reason });
  });

  it('takes an error naming an event it never sent as one more event: the call goes on', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn');
    const conversation = script()
      .error('invalid_event', 'The event was invalid.', 'evt_someone_else_42')
      .callerSays('Still there?')
      .agentSays('I am.')
      .hangup();
    const { call } = await h.emulator.placeCall(h.webhookUrl, { script: conversation });
    expect(await storedTranscript(h, TOKEN, call.callId)).toEqual(['caller: Still there?', 'agent: I am.']);
    expect(warn.mock.calls.map((c) => String(c[0])).some((l) => l.includes('evt_someone_else_42 (not an event this call sent recently)'))).toBe(true);
  });

  it.each([401, 403] as const)(
    'a handshake refused with %i (a key of another project): one attempt, a clear log line, counted, handshake_failed',
    async (status) => {
      const error = jest.spyOn(Logger.prototype, 'error');
      const before = await scrape(h.baseUrl);
      const call = h.emulator.createCall();
      call.handshakeRefusal = status;
      expect((await h.emulator.deliver(h.webhookUrl, JSON.stringify(h.emulator.incomingEvent(call)))).status).toBe(200);
      const ended = await h.bus.waitFor('call.ended', (e) => e.callId === call.callId);
      expect(ended.reason).toBe('handshake_failed');
      // No retry storm: the same key would be refused every time.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(h.emulator.handshakes.filter((a) => a.callId === call.callId).map((a) => a.status)).toEqual([status]);
      const after = await scrape(h.baseUrl);
      expect(sample(after, 'bridge_sideband_handshake_refusals_total', { status: String(status) }) - sample(before, 'bridge_sideband_handshake_refusals_total', { status: String(status) })).toBe(1);
      expect(sample(after, 'bridge_calls_ended_total', { reason: 'handshake_failed' }) - sample(before, 'bridge_calls_ended_total', { reason: 'handshake_failed' })).toBe(1);
      const line = error.mock.calls.map((c) => String(c[0])).find((l) => l.includes(call.callId));
      expect(line).toMatch(new RegExp(`sideband refused our API key \\(HTTP ${status}\\).*another|OpenAI project`));
      await h.app.get(CallRecordWriter).flush();
      const record = await fetch(`${h.baseUrl}/calls/${call.callId}`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.json());
      expect(record).toMatchObject({ status: 'failed', endReason: 'handshake_failed' });
    },
  );
});
