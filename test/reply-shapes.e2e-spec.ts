import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CallSessions } from '#calls';
import { ERROR_SHAPES, FakeDiscord, SUCCESS_SHAPES, script, type ErrorShape, type SuccessShape } from '#emulator';
import { Notifications } from '#notifications';
import { CallRecordWriter } from '#transcripts';
import { startHarness, storedTranscript, type Harness } from './support/harness.js';

const TOKEN = 'reply-shapes-admin-token-0123456789';
const GREETING = 'Thanks for calling Example Co.';

/**
 * The spine of the product, once for every shape OpenAI's call control may answer a success with: accept, the
 * sideband, the greeting, the transcript (on the bus, in Discord and in the stored record), a tool call that
 * transfers by SIP REFER, and one that hangs up. The emulator answers every call-control request of a call in
 * that call's shape.
 */
describe('a whole call, whatever shape call control answers in', () => {
  let h: Harness;
  let discord: FakeDiscord;
  let webhookId: string;

  beforeAll(async () => {
    discord = await new FakeDiscord().start();
    const url = discord.webhookUrl();
    webhookId = FakeDiscord.webhookIdOf(url);
    // One profile for the emulator's default number; calls to any other number are rejected with 486.
    const tenants = join(mkdtempSync(join(tmpdir(), 'reply-shapes-')), 'tenants.yaml');
    writeFileSync(
      tenants,
      `unmatched: { action: reject, status: 486 }
profiles:
  main:
    match: { dialled: ["+18005551212"] }
    welcomeMessage: ${JSON.stringify(GREETING)}
    tools: [end_call, transfer_to_human]
    transfer: { humanAgentNumber: "+14155550100" }
`,
    );
    h = await startHarness({ TENANTS_FILE: tenants, DISCORD_WEBHOOK_URL: url, ADMIN_API_TOKEN: TOKEN, END_CALL_MAX_WAIT_MS: '1000' });
  });
  afterAll(async () => {
    await h?.close();
    await discord?.stop();
  });

  it.each(SUCCESS_SHAPES)('%s: accept, sideband, greeting, transcript, REFER transfer', async (shape: SuccessShape) => {
    const conversation = script()
      .expect('response.create') // the greeting
      .agentSays(GREETING)
      .callerSays('Can I talk to a person, please?', { transcription: 'late' })
      .agentSays('Of course, connecting you now.')
      .toolCall('transfer_to_human', { reason: 'asked for a person' }, { callId: 'call_refer' });
    const call = h.emulator.createCall({ script: conversation });
    call.replyShape = shape;
    const delivery = await h.emulator.deliver(h.webhookUrl, JSON.stringify(h.emulator.incomingEvent(call)));
    expect(delivery.status).toBe(200);
    expect(h.emulator.requestsFor(call.callId, 'accept').map((r) => r.status)).toEqual([200]);

    await call.connected;
    const greeting = await call.waitForClientEvent('response.create');
    expect(JSON.stringify(greeting)).toContain(GREETING);
    expect((await call.ended).by).toBe('refer');
    expect(call.scriptError).toBeUndefined();
    expect(h.emulator.requestsFor(call.callId, 'refer').map((r) => r.body)).toEqual([{ target_uri: 'tel:+14155550100' }]);
    const ended = await h.bus.waitFor('call.ended', (e) => e.callId === call.callId);
    expect(ended.reason).toBe('remote_closed');

    const expected = [`agent: ${GREETING}`, 'caller: Can I talk to a person, please?', 'agent: Of course, connecting you now.'];
    await h.bus.waitFor('call.transcript.completed', (e) => e.callId === call.callId);
    expect(h.bus.of('transcript.line', (l) => l.callId === call.callId).map((l) => `${l.speaker}: ${l.text}`)).toEqual(expected);
    expect(await storedTranscript(h, TOKEN, call.callId)).toEqual(expected);
    await h.app.get(Notifications).idle();
    const posted = discord.messagesFor(webhookId).map((m) => m.content).join('\n');
    for (const line of ['Can I talk to a person, please?', 'Of course, connecting you now.']) expect(posted).toContain(line);
  });

  it.each(SUCCESS_SHAPES)('%s: a tool call that hangs up ends the call through /hangup', async (shape: SuccessShape) => {
    const conversation = script()
      .expect('response.create')
      .agentSays(GREETING)
      .callerSays("That's all, thanks.")
      .toolCall('end_call', { reason: 'caller is done' }, { callId: 'call_end' })
      .expect('response.create', 5000, 2)
      .agentSays('Goodbye!', { playback: true })
      .pause(50)
      .playbackStopped();
    const call = h.emulator.createCall({ script: conversation });
    call.replyShape = shape;
    expect((await h.emulator.deliver(h.webhookUrl, JSON.stringify(h.emulator.incomingEvent(call)))).status).toBe(200);
    expect((await call.ended).by).toBe('hangup');
    expect(call.scriptError).toBeUndefined();
    expect(h.emulator.requestsFor(call.callId, 'hangup').map((r) => r.status)).toEqual([200]);
    const tool = call.clientEvents.find((e) => e.type === 'conversation.item.create' && (e.item as { call_id?: string }).call_id === 'call_end');
    expect(JSON.parse((tool!.item as { output: string }).output)).toMatchObject({ status: 'ending_call' });
    await h.bus.waitFor('call.transcript.completed', (e) => e.callId === call.callId);
    expect(await storedTranscript(h, TOKEN, call.callId)).toEqual([`agent: ${GREETING}`, "caller: That's all, thanks.", 'agent: Goodbye!']);
  });

  it.each(SUCCESS_SHAPES)('%s: a call no profile answers is rejected once, and recorded', async (shape: SuccessShape) => {
    const call = h.emulator.createCall({ to: '+18005559999' });
    call.replyShape = shape;
    expect((await h.emulator.deliver(h.webhookUrl, JSON.stringify(h.emulator.incomingEvent(call)))).status).toBe(200);
    expect(h.emulator.requestsFor(call.callId).map((r) => [r.action, r.body, r.status])).toEqual([['reject', { status_code: 486 }, 200]]);
    expect(await h.bus.waitFor('call.rejected', (e) => e.callId === call.callId)).toMatchObject({ reason: 'unknown_number' });
    await h.app.get(CallRecordWriter).flush();
    const stored = await fetch(`${h.baseUrl}/calls/${call.callId}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await stored.json()).toMatchObject({ status: 'rejected', endReason: 'unknown_number' });
  });

  describe.each(ERROR_SHAPES)('an accept error answered as %s', (shape: ErrorShape) => {
    const failing = (status: number, times: number) => {
      const call = h.emulator.createCall();
      for (let i = 0; i < times; i++) call.acceptFaults.push({ status, shape, body: { error: { message: 'refused', code: 'test' } } });
      return call;
    };

    it('404: the caller is gone, the webhook is answered 200 and no sideband is opened', async () => {
      const call = failing(404, 1);
      expect((await h.emulator.deliver(h.webhookUrl, JSON.stringify(h.emulator.incomingEvent(call)))).status).toBe(200);
      await h.bus.waitFor('call.rejected', (e) => e.callId === call.callId && e.reason === 'caller_gone');
      expect(h.emulator.handshakes.filter((a) => a.callId === call.callId)).toEqual([]);
    });

    it('502: retried once, answered 502, and the webhook OpenAI delivers again takes the call', async () => {
      const call = failing(502, 2);
      const body = JSON.stringify(h.emulator.incomingEvent(call));
      const first = await h.emulator.deliver(h.webhookUrl, body);
      expect(first.status).toBe(502);
      expect(h.emulator.requestsFor(call.callId, 'accept')).toHaveLength(2);
      expect(h.app.get(CallSessions).has(call.callId)).toBe(false);
      expect((await h.emulator.deliver(h.webhookUrl, body, { webhookId: first.webhookId })).status).toBe(200);
      await call.connected;
    });

    it('400: not retried within the delivery, answered 502 so that a fixed deployment can take it on the retry', async () => {
      const call = failing(400, 1);
      const delivery = await h.emulator.deliver(h.webhookUrl, JSON.stringify(h.emulator.incomingEvent(call)));
      expect(delivery.status).toBe(502);
      expect(delivery.body).toBe('{"error":"call_control_failed"}');
      expect(h.emulator.requestsFor(call.callId, 'accept')).toHaveLength(1);
    });
  });
});
