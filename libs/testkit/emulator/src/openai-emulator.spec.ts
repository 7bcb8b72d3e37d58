import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from '@jest/globals';
import WebSocket from 'ws';
import { script } from './conversation-script.js';
import { OpenAIEmulator, type EmulatorOptions } from './openai-emulator.js';

const KEY = 'sk-test-emulator';

/** The sideband of a call, opened like the bridge does; resolves with the socket and what it received. */
async function openSideband(emulator: OpenAIEmulator, callId: string): Promise<{ ws: WebSocket; received: string[] }> {
  const ws = new WebSocket(`${emulator.baseUrl.replace('http', 'ws')}/realtime?call_id=${callId}`, { headers: { authorization: `Bearer ${KEY}` } });
  const received: string[] = [];
  ws.on('message', (data) => received.push((JSON.parse(data.toString()) as { type: string }).type));
  await once(ws, 'open');
  return { ws, received };
}

/** The status a refused handshake answered. */
async function refusedWith(emulator: OpenAIEmulator, callId: string): Promise<number> {
  const ws = new WebSocket(`${emulator.baseUrl.replace('http', 'ws')}/realtime?call_id=${callId}`, { headers: { authorization: `Bearer ${KEY}` } });
  ws.on('error', () => undefined); // a refused handshake also reports an error
  const [, res] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number; destroy(): void }];
  res.destroy();
  return res.statusCode;
}

async function accepted(emulator: OpenAIEmulator, steps = script().pause(200).agentSays('after the gap')) {
  const call = emulator.createCall({ script: steps });
  const res = await fetch(`${emulator.baseUrl}/realtime/calls/${call.callId}/accept`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'realtime', model: 'gpt-realtime' }),
  });
  expect(res.status).toBe(200);
  return call;
}

describe('OpenAIEmulator sidebands', () => {
  let emulator: OpenAIEmulator;
  const start = async (options: Partial<EmulatorOptions> = {}) =>
    (emulator = await new OpenAIEmulator({ apiKey: KEY, webhookSecret: 'whsec_dGVzdA==', ...options }).start());
  afterEach(async () => emulator.stop());

  it('by default the bridge closing the sideband ends the call', async () => {
    await start();
    const call = await accepted(emulator);
    const { ws } = await openSideband(emulator, call.callId);
    ws.close(1000);
    expect(await call.ended).toEqual({ code: 1000, by: 'bridge' });
    expect(call.state).toBe('ended');
    expect(await refusedWith(emulator, call.callId)).toBe(404);
  });

  it('with bridgeCloseEndsCall false the call goes on: events sent meanwhile are lost, a new sideband attaches again', async () => {
    await start({ bridgeCloseEndsCall: false });
    const call = await accepted(emulator, script().pause(150).agentSays('while nobody listens').pause(300).agentSays('on the new socket').pause(100).hangup());
    const first = await openSideband(emulator, call.callId);
    await sleep(50);
    first.ws.close(1001);
    await once(first.ws, 'close');
    await sleep(20);
    expect(call.state).toBe('accepted');
    expect(call.attached).toBe(false);
    await sleep(250); // the first agent turn plays while detached
    expect(call.lostEvents.map((e) => e.type)).toContain('response.output_audio_transcript.delta');
    const second = await openSideband(emulator, call.callId);
    expect((await call.waitForSideband(2)).openedAt).toBeGreaterThanOrEqual(call.sidebands[0]!.closedAt!);
    expect(await call.ended).toEqual({ code: 1000, by: 'caller' });
    expect(first.received).toEqual(['session.created']);
    expect(second.received[0]).toBe('session.created');
    expect(second.received).toContain('response.output_audio_transcript.done');
    expect(call.sidebands.map((s) => [s.closeCode, s.closedBy])).toEqual([
      [1001, 'bridge'],
      [1000, 'caller'],
    ]);
  });

  it('a call that ends while detached resolves `ended` and refuses the next handshake with 404', async () => {
    await start({ bridgeCloseEndsCall: false });
    const call = await accepted(emulator, script().pause(100).hangup());
    const { ws } = await openSideband(emulator, call.callId);
    ws.close(1001);
    expect(await call.ended).toEqual({ code: 1000, by: 'caller' });
    expect(await refusedWith(emulator, call.callId)).toBe(404);
  });

  it('refuses a second sideband with 409 while one is open (the default)', async () => {
    await start({ bridgeCloseEndsCall: false });
    const call = await accepted(emulator);
    const { ws } = await openSideband(emulator, call.callId);
    expect(await refusedWith(emulator, call.callId)).toBe(409);
    expect(emulator.handshakes.map((h) => h.status)).toEqual([101, 409]);
    ws.close(1001);
    await once(ws, 'close');
    await sleep(20);
    const again = await openSideband(emulator, call.callId);
    expect(call.sidebands).toHaveLength(2);
    again.ws.close();
  });

  it('with secondSideband replace the new sideband wins and the old one is closed with 4409, the call going on', async () => {
    await start({ bridgeCloseEndsCall: true, secondSideband: 'replace' });
    const call = await accepted(emulator);
    const first = await openSideband(emulator, call.callId);
    const closedOld = once(first.ws, 'close');
    const second = await openSideband(emulator, call.callId);
    const [code] = (await closedOld) as [number];
    expect(code).toBe(4409);
    expect(call.state).toBe('accepted');
    expect(call.sidebands[0]!.closedBy).toBe('replaced');
    expect(call.attached).toBe(true);
    second.ws.close(1000);
    expect(await call.ended).toEqual({ code: 1000, by: 'bridge' });
  });
});
