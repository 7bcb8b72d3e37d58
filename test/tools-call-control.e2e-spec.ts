import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { script, type EmulatedCall } from '#emulator';
import { EventBus, type BridgeEvents } from '#events';
import { startHarness, type Harness } from './support/harness.js';
import { waitUntil } from './support/process.js';

/** What the bridge published about tools and keys, with when each realtime event reached it. */
function recorder(h: Harness) {
  const bus = h.app.get(EventBus);
  const completed: Array<BridgeEvents['tool.completed']> = [];
  const dtmf: Array<BridgeEvents['call.dtmf']> = [];
  const arrivals: Array<{ callId: string; type: string; at: number }> = [];
  bus.on('tool.completed', (e) => completed.push(e));
  bus.on('call.dtmf', (e) => dtmf.push(e));
  bus.on('realtime.event', ({ callId, event }) => arrivals.push({ callId, type: event.type, at: performance.now() }));
  return {
    completed,
    dtmf,
    arrivalOf: (callId: string, type: string) => arrivals.find((a) => a.callId === callId && a.type === type)?.at,
  };
}

function messages(call: EmulatedCall): string[] {
  return call.clientEvents
    .filter((e) => e.type === 'conversation.item.create' && (e.item as { type?: string }).type === 'message')
    .map((e) => {
      const item = e.item as { role: string; content: Array<{ type: string; text: string }> };
      return `${item.role}: ${item.content[0].text}`;
    });
}

function outputOf(call: EmulatedCall, toolCallId: string): Record<string, any> {
  const event = call.clientEvents.find(
    (e) => e.type === 'conversation.item.create' && (e.item as { call_id?: string }).call_id === toolCallId,
  );
  if (!event) throw new Error(`no function_call_output for ${toolCallId}`);
  return JSON.parse((event.item as { output: string }).output);
}

describe('call control and DTMF on real calls', () => {
  let h: Harness;
  let seen: ReturnType<typeof recorder>;

  beforeAll(async () => {
    h = await startHarness({
      HUMAN_AGENT_NUMBER: '+14155550100',
      TRANSFER_TIMEOUT_MS: '700',
      END_CALL_MAX_WAIT_MS: '1500',
      DTMF_INTER_DIGIT_MS: '250',
      DTMF_KEY_MAP: '0:transfer_to_human',
    });
    seen = recorder(h);
  });

  afterAll(async () => h?.close());

  describe('end_call', () => {
    it('hangs up only after the goodbye has finished playing (response.done and output_audio_buffer.stopped)', async () => {
      const conversation = script()
        .callerSays("That's all, thanks.")
        .toolCall('end_call', { reason: 'caller is done' }, { callId: 'call_end' })
        .expect('response.create')
        .agentSays('Thanks for calling, goodbye!', { playback: true })
        .pause(400) // the goodbye is still playing after response.done
        .playbackStopped();
      const { call } = await h.emulator.placeCall(h.webhookUrl, { script: conversation });
      const ended = await call.ended;
      expect(ended.by).toBe('hangup');
      expect(call.scriptError).toBeUndefined();

      const [hangup] = h.emulator.requestsFor(call.callId, 'hangup');
      const done = seen.arrivalOf(call.callId, 'response.done');
      const stopped = seen.arrivalOf(call.callId, 'output_audio_buffer.stopped')!;
      expect(stopped).toBeDefined();
      expect(hangup.receivedAt).toBeGreaterThan(stopped);
      expect(hangup.receivedAt - stopped).toBeLessThan(1000);
      expect(done).toBeLessThan(stopped);
      expect(h.emulator.requestsFor(call.callId, 'hangup')).toHaveLength(1);
      expect(outputOf(call, 'call_end')).toMatchObject({ status: 'ending_call' });
      const bridgeEnded = await h.bus.waitFor('call.ended', (e) => e.callId === call.callId);
      expect(bridgeEnded.reason).toBe('remote_closed');
    });

    it('hangs up after END_CALL_MAX_WAIT_MS when the goodbye never stops playing', async () => {
      const conversation = script()
        .toolCall('end_call', {}, { callId: 'call_stuck' })
        .expect('response.create')
        .agentSays('Goodbye!', { playback: true });
      const { call } = await h.emulator.placeCall(h.webhookUrl, { script: conversation });
      await call.ended;
      const [hangup] = h.emulator.requestsFor(call.callId, 'hangup');
      const goodbyeStarted = seen.arrivalOf(call.callId, 'output_audio_buffer.started')!;
      expect(hangup.receivedAt - goodbyeStarted).toBeGreaterThanOrEqual(1400);
    });
  });

  describe('transfer_to_human (SIP REFER)', () => {
    it('refers the call to tel:HUMAN_AGENT_NUMBER, and the call leaves', async () => {
      const conversation = script()
        .callerSays('Can I talk to a person?')
        .toolCall('transfer_to_human', { reason: 'asked for a person' }, { callId: 'call_xfer' });
      const { call } = await h.emulator.placeCall(h.webhookUrl, { script: conversation });
      expect((await call.ended).by).toBe('refer');
      const refers = h.emulator.requestsFor(call.callId, 'refer');
      expect(refers).toHaveLength(1);
      expect(refers[0].body).toEqual({ target_uri: 'tel:+14155550100' });
      expect(refers[0].status).toBe(200);
      const run = await waitUntil(() => seen.completed.find((e) => e.toolCallId === 'call_xfer' && e.callId === call.callId));
      expect(run).toMatchObject({ status: 'succeeded', delivered: false });
    });

    it('tells the model the transfer did not go through when the call does not end, and the call goes on', async () => {
      const conversation = script()
        .toolCall('transfer_to_human', {}, { callId: 'call_stuck_xfer' })
        .expect('response.create', 5000)
        .agentSays("I'm sorry, nobody could take your call. Can I take a message?")
        .callerSays('No thanks.')
        .hangup();
      const call = h.emulator.createCall({ script: conversation });
      call.referBehaviour = 'ignored';
      await h.emulator.deliver(h.webhookUrl, JSON.stringify(h.emulator.incomingEvent(call)));
      const ended = await h.bus.waitFor('call.ended', (e) => e.callId === call.callId, 10_000);
      expect(ended.reason).toBe('remote_closed');
      expect(call.scriptError).toBeUndefined();
      expect(h.emulator.requestsFor(call.callId, 'refer')).toHaveLength(1);
      const output = outputOf(call, 'call_stuck_xfer');
      expect(output.error.code).toBe('transfer_failed');
      expect(output.error.message).toMatch(/did not go through/);
      const types = call.clientEvents.map((e) => e.type);
      expect(types).toEqual(['conversation.item.create', 'response.create']);
    });
  });

  describe('DTMF', () => {
    it('publishes each key and hands the digits to the model in order, on # and after a pause', async () => {
      const conversation = script()
        .dtmf('123#')
        .expect('response.create')
        .agentSays('Thank you, I have your account number.')
        .dtmf('45')
        .expect('response.create', 5000, 2) // after the pause
        .agentSays('Option 4 5, noted.')
        .dtmf('6*')
        .pause(600)
        .hangup();
      const { call } = await h.emulator.placeCall(h.webhookUrl, { script: conversation });
      await h.bus.waitFor('call.ended', (e) => e.callId === call.callId);
      expect(call.scriptError).toBeUndefined();
      expect(messages(call)).toEqual([
        'user: The caller pressed 1 2 3 #',
        'user: The caller pressed 4 5',
        'user: The caller pressed 6 *',
      ]);
      expect(call.clientEvents.filter((e) => e.type === 'response.create')).toHaveLength(3);
      expect(seen.dtmf.filter((e) => e.callId === call.callId).map((e) => e.key)).toEqual(['1', '2', '3', '#', '4', '5', '6', '*']);
    });

    it('runs the key map without waiting for the model: 0 transfers the caller', async () => {
      const conversation = script().callerSays('I want to speak to someone.').dtmf('0');
      const { call } = await h.emulator.placeCall(h.webhookUrl, { script: conversation });
      expect((await call.ended).by).toBe('refer');
      expect(h.emulator.requestsFor(call.callId, 'refer')[0].body).toEqual({ target_uri: 'tel:+14155550100' });
      expect(seen.dtmf.filter((e) => e.callId === call.callId)).toEqual([
        expect.objectContaining({ key: '0', action: 'transfer_to_human' }),
      ]);
      // The model was not asked: no message, no response.create.
      expect(call.clientEvents).toEqual([]);
    });
  });
});

