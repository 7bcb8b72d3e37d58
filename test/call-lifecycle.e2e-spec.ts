import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CallSessions } from '#calls';
import { script } from '#emulator';
import { startHarness, TEST_API_KEY, type Harness } from './support/harness.js';

describe('accepting a call', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ INPUT_TRANSCRIPTION_LANGUAGE: 'en', OPENAI_VOICE: 'cedar', OPENAI_MODEL: 'gpt-realtime-mini' });
  });
  afterAll(async () => h.close());

  it('sends an accept body SIP accepts: realtime session, model, voice, caller transcription, SIP-safe VAD, no codec', async () => {
    const { call, delivery } = await h.emulator.placeCall(h.webhookUrl);
    expect(delivery.status).toBe(200);
    const [accept] = h.emulator.requestsFor(call.callId, 'accept');
    expect(accept.headers.authorization).toBe(`Bearer ${TEST_API_KEY}`);
    expect(accept.path).toBe(`/v1/realtime/calls/${call.callId}/accept`);
    const body = accept.body as Record<string, any>;
    expect(body).toMatchObject({
      type: 'realtime',
      model: 'gpt-realtime-mini',
      output_modalities: ['audio'],
      audio: {
        input: {
          transcription: { model: 'gpt-4o-mini-transcribe', language: 'en' },
          turn_detection: { type: 'semantic_vad', create_response: true, interrupt_response: true },
        },
        output: { voice: 'cedar' },
      },
    });
    expect(typeof body.instructions).toBe('string');
    expect(body.instructions.length).toBeGreaterThan(20);
    for (const field of ['threshold', 'prefix_padding_ms', 'silence_duration_ms']) {
      expect(body.audio.input.turn_detection).not.toHaveProperty(field);
    }
    expect(body.audio.input).not.toHaveProperty('format');
    expect(body.audio.output).not.toHaveProperty('format');
  });

  it('publishes the parsed call context with the accept', async () => {
    const { call } = await h.emulator.placeCall(h.webhookUrl, {
      from: '+14155550123',
      to: '+18005551212',
      sipHeaders: [
        { name: 'diversion', value: '<sip:+14155550999@carrier.example>;reason=unconditional' },
        { name: 'X-conferenceName', value: 'CA1234567890abcdef' },
      ],
    });
    const accepted = await h.bus.waitFor('call.accepted', (e) => e.callId === call.callId);
    expect(accepted.context).toMatchObject({
      callId: call.callId,
      callerNumber: '+14155550123',
      dialledNumber: '+18005551212',
      forwardedFrom: '+14155550999',
      conferenceName: 'CA1234567890abcdef',
    });
  });

  it('answers 200 and opens no sideband when accept says the caller is gone (404)', async () => {
    const call = h.emulator.createCall();
    call.acceptFaults.push({ status: 404, body: { error: { code: 'call_id_not_found', message: 'gone' } } });
    const delivery = await h.emulator.deliver(h.webhookUrl, JSON.stringify(h.emulator.incomingEvent(call)));
    expect(delivery.status).toBe(200);
    await h.bus.waitFor('call.rejected', (e) => e.callId === call.callId && e.reason === 'caller_gone');
    expect(h.app.get(CallSessions).has(call.callId)).toBe(false);
    expect(h.emulator.handshakes.filter((a) => a.callId === call.callId)).toHaveLength(0);
  });

  it('answers 5xx when accept keeps failing, then accepts when OpenAI retries the webhook', async () => {
    const call = h.emulator.createCall();
    call.acceptFaults.push({ status: 500 }, { status: 503 });
    const body = JSON.stringify(h.emulator.incomingEvent(call));
    const first = await h.emulator.deliver(h.webhookUrl, body);
    expect(first.status).toBe(502);
    expect(h.emulator.requestsFor(call.callId, 'accept')).toHaveLength(2); // one retry of a transient failure
    expect(h.app.get(CallSessions).has(call.callId)).toBe(false);

    const retry = await h.emulator.deliver(h.webhookUrl, body, { webhookId: first.webhookId });
    expect(retry.status).toBe(200);
    expect(h.emulator.requestsFor(call.callId, 'accept')).toHaveLength(3);
    await call.connected;
  });

  it('retries a transient accept failure once within the same delivery', async () => {
    const call = h.emulator.createCall();
    call.acceptFaults.push({ status: 500 });
    const delivery = await h.emulator.deliver(h.webhookUrl, JSON.stringify(h.emulator.incomingEvent(call)));
    expect(delivery.status).toBe(200);
    expect(h.emulator.requestsFor(call.callId, 'accept').map((r) => r.status)).toEqual([500, 200]);
  });

  it('does not retry an accept that OpenAI refused as a bad request, and answers 5xx', async () => {
    const call = h.emulator.createCall();
    call.acceptFaults.push({ status: 400, body: { error: { message: "Unknown parameter: 'x'." } } });
    const delivery = await h.emulator.deliver(h.webhookUrl, JSON.stringify(h.emulator.incomingEvent(call)));
    expect(delivery.status).toBe(502);
    expect(h.emulator.requestsFor(call.callId, 'accept')).toHaveLength(1);
  });
});

describe('the accept deadline', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ ACCEPT_TIMEOUT_MS: '800' });
  });
  afterAll(async () => h.close());

  it('answers 504 within the deadline when OpenAI does not answer, so the webhook is retried', async () => {
    const call = h.emulator.createCall();
    call.acceptFaults.push({ status: 200, delayMs: 3000 }, { status: 200, delayMs: 3000 });
    const started = Date.now();
    const delivery = await h.emulator.deliver(h.webhookUrl, JSON.stringify(h.emulator.incomingEvent(call)));
    expect(delivery.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(h.app.get(CallSessions).has(call.callId)).toBe(false);
  });
});

describe('the sideband session', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ WELCOME_MESSAGE: 'Thanks for calling Acme, how can I help?' });
  });
  afterAll(async () => h.close());

  it('connects to /v1/realtime?call_id=… with the API key after accept', async () => {
    const { call } = await h.emulator.placeCall(h.webhookUrl);
    await call.connected;
    const [attempt] = h.emulator.handshakes.filter((a) => a.callId === call.callId);
    expect(attempt.status).toBe(101);
    expect(attempt.url).toBe(`/v1/realtime?call_id=${call.callId}`);
    expect(attempt.authorization).toBe(`Bearer ${TEST_API_KEY}`);
    const [accept] = h.emulator.requestsFor(call.callId, 'accept');
    expect(attempt.at).toBeGreaterThan(accept.receivedAt);
  });

  it('retries the handshake while it answers 404 right after accept', async () => {
    const call = h.emulator.createCall();
    call.handshake404s = 2;
    await h.emulator.deliver(h.webhookUrl, JSON.stringify(h.emulator.incomingEvent(call)));
    const connected = await h.bus.waitFor('sideband.connected', (e) => e.callId === call.callId);
    expect(connected.attempts).toBe(3);
    expect(h.emulator.handshakes.filter((a) => a.callId === call.callId).map((a) => a.status)).toEqual([404, 404, 101]);
  });

  it('gives up after its attempts and ends the call as handshake_failed', async () => {
    const call = h.emulator.createCall();
    call.handshake404s = 100;
    await h.emulator.deliver(h.webhookUrl, JSON.stringify(h.emulator.incomingEvent(call)));
    const ended = await h.bus.waitFor('call.ended', (e) => e.callId === call.callId);
    expect(ended.reason).toBe('handshake_failed');
    expect(h.emulator.handshakes.filter((a) => a.callId === call.callId)).toHaveLength(5);
    expect(h.app.get(CallSessions).has(call.callId)).toBe(false);
  });

  it('greets the caller with WELCOME_MESSAGE once the socket is open', async () => {
    const { call } = await h.emulator.placeCall(h.webhookUrl);
    const greeting = await call.waitForClientEvent('response.create');
    expect(greeting.event_id).toEqual(expect.any(String));
    expect((greeting.response as { instructions: string }).instructions).toContain('Thanks for calling Acme, how can I help?');
    expect(call.clientEvents.filter((e) => e.type === 'response.create')).toHaveLength(1);
  });

  it('publishes every server event under its GA name, skips audio deltas, and survives errors and garbage', async () => {
    const conversation = script()
      .callerSays('Hello there')
      .agentSays('Hi, how can I help?', { beta: true, audioDeltas: 3 })
      .error('invalid_event', 'bad event')
      .raw('this is not json')
      .raw('{"no_type":true}')
      .agentSays('Still here.')
      .hangup();
    const { call } = await h.emulator.placeCall(h.webhookUrl, { script: conversation });
    const ended = await h.bus.waitFor('call.ended', (e) => e.callId === call.callId);
    expect(ended.reason).toBe('remote_closed');
    expect(ended.closeCode).toBe(1000);

    const types = h.bus.of('realtime.event', (e) => e.callId === call.callId).map((e) => e.event.type);
    expect(types[0]).toBe('session.created');
    expect(types).toContain('response.output_audio_transcript.delta');
    expect(types).toContain('conversation.item.added');
    expect(types).not.toContain('response.audio_transcript.delta');
    expect(types).not.toContain('conversation.item.created');
    expect(types).not.toContain('response.output_audio.delta');
    expect(types).not.toContain('response.audio.delta');
    expect(types).toContain('error');
    // The error did not end the call: the second agent turn still arrived.
    expect(types.filter((t) => t === 'response.done')).toHaveLength(2);
    const sent = conversation.steps.filter((s) => s.kind === 'send').length;
    expect(types.length).toBe(1 + sent - 3); // session.created + every scripted event but the 3 audio deltas
  });

  it('ends the call when OpenAI closes the socket, and releases its state', async () => {
    const { call } = await h.emulator.placeCall(h.webhookUrl);
    await h.bus.waitFor('sideband.connected', (e) => e.callId === call.callId);
    expect(h.app.get(CallSessions).has(call.callId)).toBe(true);
    call.hangUp();
    const ended = await h.bus.waitFor('call.ended', (e) => e.callId === call.callId);
    expect(ended.reason).toBe('remote_closed');
    expect(ended.endedAt.getTime()).toBeGreaterThanOrEqual(ended.acceptedAt.getTime());
    expect(h.app.get(CallSessions).has(call.callId)).toBe(false);
  });
});

describe('keeping a sideband honest', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ SIDEBAND_PING_INTERVAL_MS: '100', SIDEBAND_SESSION_CAP_MS: '1500' });
  });
  afterAll(async () => h.close());

  it('ends a call whose peer stops answering pings', async () => {
    const call = h.emulator.createCall();
    call.unresponsive = true;
    await h.emulator.deliver(h.webhookUrl, JSON.stringify(h.emulator.incomingEvent(call)));
    const ended = await h.bus.waitFor('call.ended', (e) => e.callId === call.callId);
    expect(ended.reason).toBe('error');
  });

  it('keeps a call whose peer answers pings, and closes it at the session cap', async () => {
    const { call } = await h.emulator.placeCall(h.webhookUrl);
    const ended = await h.bus.waitFor('call.ended', (e) => e.callId === call.callId);
    expect(ended.reason).toBe('session_cap');
    expect(ended.endedAt.getTime() - ended.acceptedAt.getTime()).toBeGreaterThanOrEqual(1400);
    expect((await call.ended).by).toBe('bridge');
  });
});
