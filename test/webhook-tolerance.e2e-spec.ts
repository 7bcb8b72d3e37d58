import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EmulatedCall } from '#emulator';
import type { BridgeEvents } from '#events';
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

  it('reads compact and lower-case names (f, to, i), and takes the first of several X- headers (room-a)', async () => {
    const call = h.emulator.createCall();
    const context = await accepted(
      call,
      withHeaders([
        { name: 'f', value: '"Bob" <sip:+14155550123@a.example>;tag=7' },
        { name: 'to', value: '<sip:+18005551212@a.example>' },
        { name: 'I', value: 'compact-call-id@carrier.example' },
        { name: 'X-conferenceName', value: 'room-a' },
        { name: 'x-conferencename', value: 'room-b' },
        { name: 'X-Custom', value: 'one' },
        { name: 'X-CUSTOM', value: 'two' },
      ]),
    );
    expect(context).toMatchObject({
      callerNumber: '+14155550123',
      fromUri: 'sip:+14155550123@a.example',
      dialledNumber: '+18005551212',
      sipCallId: 'compact-call-id@carrier.example',
      conferenceName: 'room-a',
    });
    // The headers reach the call as sent: names' case, order and repeats.
    expect(context.sipHeaders.slice(-2)).toEqual([{ name: 'X-Custom', value: 'one' }, { name: 'X-CUSTOM', value: 'two' }]);
  });

  it('keeps the caller number of a 100 KB From whose address comes before the bulk', async () => {
    const call = h.emulator.createCall();
    const from = `"Alice" <sip:+14155550123@a.example>;tag=${'t'.repeat(100_000)}`;
    const context = await accepted(call, withHeaders([{ name: 'From', value: from }, { name: 'To', value: '<sip:+18005551212@a.example>' }]));
    expect(context).toMatchObject({ callerNumber: '+14155550123', fromUri: 'sip:+14155550123@a.example', dialledNumber: '+18005551212' });
    expect(context.sipHeaders[0].value).toHaveLength(1024);
  });

  it('gives no caller number, rather than a wrong one, when the cut of a long From falls inside its number', async () => {
    const call = h.emulator.createCall();
    // 1,025 characters: the 1,024 kept end in "tel:+1415555012", itself a valid-looking (other) number.
    const from = `"${'A'.repeat(1024 - 2 - 1 - 'tel:+14155550123'.length + 1)}" tel:+14155550123`;
    expect(from).toHaveLength(1025);
    const context = await accepted(call, withHeaders([{ name: 'From', value: from }, { name: 'To', value: '<sip:+18005551212@a.example>' }]));
    expect(context.sipHeaders[0].value.endsWith('tel:+1415555012')).toBe(true);
    expect(context.callerNumber).toBeUndefined();
    expect(context.fromUri).toBeUndefined();
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

/** Which agent answers: the profile chosen from the first of repeated headers, never a later one. */
describe('routing an incoming call whose headers repeat', () => {
  const ACME = '+18005551212';
  const GLOBEX = '+18005553434';
  let h: Harness;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'webhook-tolerance-'));
    writeFileSync(
      join(dir, 'tenants.yaml'),
      `
tenantHeader: X-Tenant
unmatched: { action: reject, status: 486 }
profiles:
  acme:
    match: { dialled: ["${ACME}"], header: ["acme"] }
    instructions: You answer the phone for Acme.
  globex:
    match: { dialled: ["${GLOBEX}"], forwardedFrom: ["+14155550999"] }
    instructions: You answer the phone for Globex.
  initech:
    match: { header: ["initech"] }
    instructions: You answer the phone for Initech.
`,
    );
    h = await startHarness({ TENANTS_FILE: join(dir, 'tenants.yaml') });
  });
  afterAll(async () => h?.close());

  async function profileOf(headers: Header[]): Promise<{ profile: string; context: BridgeEvents['call.accepted']['context'] }> {
    const call = h.emulator.createCall();
    const event = h.emulator.incomingEvent(call) as Record<string, any>;
    event.data.sip_headers = [{ name: 'From', value: '<sip:+14155550123@a.example>' }, ...headers];
    const delivery = await h.emulator.deliver(h.webhookUrl, JSON.stringify(event));
    expect(delivery.status).toBe(200);
    const accepted = await h.bus.waitFor('call.accepted', (e) => e.callId === call.callId);
    await call.connected;
    const accept = h.emulator.requestsFor(call.callId, 'accept');
    expect(accept).toHaveLength(1);
    const instructions = String((accept[0].body as { instructions?: unknown }).instructions);
    expect(instructions.toLowerCase()).toContain(accepted.profile);
    return { profile: accepted.profile, context: accepted.context };
  }

  it.each([
    ['Acme, the first', ACME, GLOBEX, 'acme'],
    ['Globex, the first', GLOBEX, ACME, 'globex'],
  ])('answers two To headers with different numbers as %s', async (_name, first, second, profile) => {
    const answered = await profileOf([
      { name: 'To', value: `<sip:${first}@a.example>` },
      { name: 'To', value: `<sip:${second}@b.example>` },
    ]);
    expect(answered.profile).toBe(profile);
    expect(answered.context.dialledNumber).toBe(first);
  });

  it.each([
    ['initech, the first', 'initech', 'acme'],
    ['acme, the first', 'acme', 'initech'],
  ])('answers repeated tenant headers as %s', async (_name, first, second) => {
    const answered = await profileOf([
      { name: 'To', value: `<sip:${GLOBEX}@a.example>` },
      { name: 'X-Tenant', value: `  ${first} ` },
      { name: 'x-tenant', value: second },
    ]);
    expect(answered.profile).toBe(first);
  });

  it('takes the first Diversion with a number among several, ahead of the dialled number', async () => {
    const answered = await profileOf([
      { name: 'To', value: `<sip:${ACME}@a.example>` },
      { name: 'Diversion', value: '<sip:voicemail@pbx.example>;reason=no-answer' },
      { name: 'DIVERSION', value: '<sip:+14155550999@carrier.example>;reason=unconditional' },
      { name: 'Diversion', value: '<sip:+14155550888@carrier.example>;reason=unconditional' },
    ]);
    expect(answered.context.forwardedFrom).toBe('+14155550999');
    expect(answered.profile).toBe('globex');
  });
});
