import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EmulatedCall } from '#emulator';
import { startHarness, type Harness } from './support/harness.js';

type Header = { name: string; value: string };

/**
 * What a real sender of `realtime.call.incoming` may put in it beyond what the bridge reads: the webhook is still
 * answered 200, the call accepted with the numbers it carries, its sideband opened.
 */
describe('the incoming-call webhook as real senders write it', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h?.close());

  /** Delivers the call's event, signed, after `edit` changed it. */
  async function deliver(call: EmulatedCall, edit: (event: Record<string, any>) => void) {
    const event = h.emulator.incomingEvent(call) as Record<string, any>;
    edit(event);
    return h.emulator.deliver(h.webhookUrl, JSON.stringify(event));
  }

  async function accepted(call: EmulatedCall, edit: (event: Record<string, any>) => void) {
    const delivery = await deliver(call, edit);
    expect(delivery.status).toBe(200);
    const event = await h.bus.waitFor('call.accepted', (e) => e.callId === call.callId);
    await call.connected;
    expect(h.emulator.requestsFor(call.callId, 'accept')).toHaveLength(1);
    return event.context;
  }

  const withHeaders = (headers: Header[]) => (event: Record<string, any>) => {
    event.data.sip_headers = headers;
  };

  it('ignores top-level and data fields it does not know', async () => {
    const call = h.emulator.createCall({ from: '+14155550123', to: '+18005551212' });
    const context = await accepted(call, (event) => {
      event.livemode = false;
      event.api_version = '2026-11-01';
      event.future_field = { nested: [1, { deep: null }] };
      event.data.sip_media_security = 'srtp_optional';
      event.data.metadata = null;
      event.data.session_id = 'live_0123456789';
      event.data.sip_headers = [...event.data.sip_headers, { name: 'X-Extra', value: 'v', future: true }];
    });
    expect(context).toMatchObject({ callerNumber: '+14155550123', dialledNumber: '+18005551212' });
  });

  it('reads header values with odd spacing, and names in any case or compact form', async () => {
    const call = h.emulator.createCall();
    const context = await accepted(
      call,
      withHeaders([
        { name: 'FROM', value: ' \t "Alice"   <sip:+14155550123@x.example> ;tag=1  ' },
        { name: 't', value: '   <sip:+18005551212@y.example>\t' },
        { name: 'cAlL-iD', value: '  abc123@carrier.example ' },
        { name: 'diversion', value: '<sip:+14155550999@carrier.example>;reason=unconditional' },
      ]),
    );
    expect(context).toMatchObject({
      callerNumber: '+14155550123',
      dialledNumber: '+18005551212',
      sipCallId: 'abc123@carrier.example',
      forwardedFrom: '+14155550999',
    });
  });

  it('takes the first of repeated headers (From, To, Diversion, X-)', async () => {
    const call = h.emulator.createCall();
    const context = await accepted(
      call,
      withHeaders([
        { name: 'From', value: '<sip:+14155550123@a.example>' },
        { name: 'From', value: '<sip:+14155550777@b.example>' },
        { name: 'To', value: '<sip:+18005551212@a.example>' },
        { name: 'to', value: '<sip:+18005559999@b.example>' },
        { name: 'Diversion', value: '<sip:+14155550999@c.example>' },
        { name: 'Diversion', value: '<sip:+14155550888@c.example>' },
        { name: 'X-conferenceName', value: '' },
        { name: 'X-Twilio-CallSid', value: 'CA0000000000000000000000000000000a' },
        { name: 'X-Twilio-CallSid', value: 'CA0000000000000000000000000000000b' },
      ]),
    );
    expect(context).toMatchObject({
      callerNumber: '+14155550123',
      dialledNumber: '+18005551212',
      forwardedFrom: '+14155550999',
      twilioCallSid: 'CA0000000000000000000000000000000a',
    });
    expect(context.conferenceName).toBeUndefined();
  });

  it('keeps the caller number of a From whose display name runs to 5,000 characters', async () => {
    const call = h.emulator.createCall();
    const name = `"${'x'.repeat(5000)}"`;
    const context = await accepted(call, withHeaders([{ name: 'From', value: `${name} <sip:+14155550123@a.example>;tag=z` }, { name: 'To', value: '<sip:+18005551212@a.example>' }]));
    expect(context.callerNumber).toBe('+14155550123');
    expect(context.sipHeaders.every((header) => header.value.length <= 1024)).toBe(true);
  });

  it('answers a 100 KB From 200 and takes the call without a caller number', async () => {
    const call = h.emulator.createCall();
    const context = await accepted(call, withHeaders([{ name: 'From', value: `sip:${'9'.repeat(100_000)}@a.example` }, { name: 'To', value: '<sip:+18005551212@a.example>' }]));
    expect(context.callerNumber).toBeUndefined();
    expect(context.dialledNumber).toBe('+18005551212');
  });

  it.each([
    ['no Call-ID', [{ name: 'From', value: '<sip:+14155550123@a.example>' }, { name: 'To', value: '<sip:+18005551212@a.example>' }]],
    ['no SIP headers at all', []],
    ['sip_headers that are not a list', 'From: someone'],
    ['sip_headers of junk entries', [null, 7, 'From', { name: 1, value: 2 }, { name: 'To' }]],
    ['sip_headers absent', undefined],
  ])('takes a call with %s', async (_name, headers) => {
    const call = h.emulator.createCall();
    const context = await accepted(call, (event) => {
      if (headers === undefined) delete event.data.sip_headers;
      else event.data.sip_headers = headers;
    });
    expect(context.sipCallId).toBeUndefined();
  });

  it('acknowledges, and ignores, an event of another type with fields of its own', async () => {
    const call = h.emulator.createCall();
    const delivery = await deliver(call, (event) => {
      event.type = 'realtime.call.future_event';
      event.data.extra = { a: 1 };
    });
    expect(delivery.status).toBe(200);
    expect(h.emulator.requestsFor(call.callId)).toEqual([]);
  });

  it.each([
    ['missing', undefined],
    ['a number', 42],
    ['empty', ''],
    ['a path', '../../etc/passwd'],
    ['too long', `rtc_${'a'.repeat(200)}`],
  ])('answers 400 to a call_id that is %s, and calls nobody', async (_name, callId) => {
    const call = h.emulator.createCall();
    const before = h.emulator.requests.length;
    const delivery = await deliver(call, (event) => {
      if (callId === undefined) delete event.data.call_id;
      else event.data.call_id = callId;
    });
    expect(delivery.status).toBe(400);
    expect(h.emulator.requests.length).toBe(before);
  });

  it.each([
    ['data missing', (event: Record<string, any>) => delete event.data],
    ['data null', (event: Record<string, any>) => (event.data = null)],
    ['data a string', (event: Record<string, any>) => (event.data = 'rtc_x')],
  ])('answers 400 to an incoming call with %s', async (_name, edit) => {
    const call = h.emulator.createCall();
    expect((await deliver(call, edit)).status).toBe(400);
    expect(h.emulator.requestsFor(call.callId)).toEqual([]);
  });
});
