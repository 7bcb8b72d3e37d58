import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { newWebhookSecret, signWebhook } from '#emulator';
import { startHarness, TEST_API_KEY, type Harness } from './support/harness.js';

/** openai-node's own webhook test vector. */
const VECTOR = {
  secret: 'whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c=',
  id: 'wh_685c059ae39c8190af8c71ed1022a24d',
  timestamp: 1750861210,
  payload:
    '{"id": "evt_685c059ae3a481909bdc86819b066fb6", "object": "event", "created_at": 1750861210, "type": "response.completed", "data": {"id": "resp_123"}}',
  signature: 'v1,gUAg4R2hWouRZqRQG4uJypNS8YK885G838+EHb4nKBY=',
};

describe('POST /openai/webhook', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  const post = (body: string, headers: Record<string, string>) =>
    fetch(h.webhookUrl, { method: 'POST', headers, body });

  const incomingBody = () => {
    const call = h.emulator.createCall();
    return { call, body: JSON.stringify(h.emulator.incomingEvent(call)) };
  };

  it('accepts a signed incoming call with a plain 200 and never echoes credentials', async () => {
    const { call, body } = incomingBody();
    const response = await post(body, h.emulator.signedHeaders(body));
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    expect(response.headers.get('authorization')).toBeNull();
    expect(h.emulator.requestsFor(call.callId, 'accept')).toHaveLength(1);
    await call.connected;
  });

  describe('answers 400 with a generic body, and does nothing else, when', () => {
    const cases: Array<[string, (body: string, headers: Record<string, string>) => [string, Record<string, string>]]> = [
      ['webhook-id is missing', (b, hd) => [b, without(hd, 'webhook-id')]],
      ['webhook-timestamp is missing', (b, hd) => [b, without(hd, 'webhook-timestamp')]],
      ['webhook-signature is missing', (b, hd) => [b, without(hd, 'webhook-signature')]],
      ['the signature does not match', (b, hd) => [b, { ...hd, 'webhook-signature': 'v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' }]],
      ['the body was altered after signing', (b, hd) => [b.replace('realtime.call.incoming', 'realtime.call.incominG'), hd]],
      ['the signature is garbage', (b, hd) => [b, { ...hd, 'webhook-signature': '%%%' }]],
    ];
    it.each(cases)('%s', async (_name, mutate) => {
      const { call, body } = incomingBody();
      const [sentBody, headers] = mutate(body, h.emulator.signedHeaders(body));
      const response = await post(sentBody, headers);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: 'invalid_webhook' });
      expect(h.emulator.requestsFor(call.callId)).toHaveLength(0);
    });

    it('it is signed with a secret we do not hold', async () => {
      const { call, body } = incomingBody();
      const response = await post(body, h.emulator.signedHeaders(body, { secret: newWebhookSecret() }));
      expect(response.status).toBe(400);
      expect(h.emulator.requestsFor(call.callId)).toHaveLength(0);
    });

    // Ten seconds past the tolerance, not one: the check reads the clock again (whole seconds), and a second that
    // ticks between signing and checking took "301 s ahead" back to 300 on a busy CI machine.
    it.each([
      ['stale (older than 300 s)', -310],
      ['from the future (over 300 s ahead)', 310],
    ])('the timestamp is %s', async (_name, offset) => {
      const { call, body } = incomingBody();
      const timestamp = Math.floor(Date.now() / 1000) + offset;
      const response = await post(body, h.emulator.signedHeaders(body, { timestamp }));
      expect(response.status).toBe(400);
      expect(h.emulator.requestsFor(call.callId)).toHaveLength(0);
    });

    it.each(['1750861210.5', 'abc', '-5', ''])('the timestamp is not an integer (%p), even when signed as such', async (timestamp) => {
      const { call, body } = incomingBody();
      const response = await post(body, h.emulator.signedHeaders(body, { timestamp }));
      expect(response.status).toBe(400);
      expect(h.emulator.requestsFor(call.callId)).toHaveLength(0);
    });

    it.each([
      ['the body is not JSON', 'not json at all'],
      ['the body is JSON but not an event', '[1,2,3]'],
      ['an incoming call has no call_id', JSON.stringify({ type: 'realtime.call.incoming', data: { sip_headers: [] } })],
      ['an incoming call has a call_id that is not an id', JSON.stringify({ type: 'realtime.call.incoming', data: { call_id: '../../etc', sip_headers: [] } })],
    ])('%s (correctly signed)', async (_name, body) => {
      const before = h.emulator.requests.length;
      const response = await post(body, h.emulator.signedHeaders(body));
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ error: 'invalid_webhook' });
      expect(h.emulator.requests.length).toBe(before);
    });
  });

  it('answers 413 to a body over the size cap without reading it all', async () => {
    const body = JSON.stringify({ type: 'realtime.call.incoming', padding: 'x'.repeat(300 * 1024) });
    const response = await post(body, h.emulator.signedHeaders(body));
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: 'payload_too_large' });
  });

  it('acknowledges event types it does not handle with 200 and does nothing', async () => {
    const before = h.emulator.requests.length;
    for (const type of ['response.completed', 'batch.completed', 'live.transport.incoming', 'something.new']) {
      const body = JSON.stringify({ object: 'event', id: 'evt_1', type, created_at: 1, data: { id: 'x' } });
      const response = await post(body, h.emulator.signedHeaders(body));
      expect(response.status).toBe(200);
    }
    expect(h.emulator.requests.length).toBe(before);
  });

  it('accepts one call, opens one sideband, for 20 concurrent copies of one delivery', async () => {
    const { call, body } = incomingBody();
    const headers = h.emulator.signedHeaders(body);
    const responses = await Promise.all(Array.from({ length: 20 }, () => post(body, headers)));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    await call.connected;
    expect(h.emulator.requestsFor(call.callId, 'accept')).toHaveLength(1);
    expect(h.emulator.handshakes.filter((a) => a.callId === call.callId && a.status === 101)).toHaveLength(1);
  });

  it('accepts a call once when separate deliveries (new webhook-ids) announce the same call_id', async () => {
    const { call, body } = incomingBody();
    const responses = await Promise.all(Array.from({ length: 5 }, () => post(body, h.emulator.signedHeaders(body))));
    expect(responses.map((r) => r.status)).toEqual(Array(5).fill(200));
    await call.connected;
    expect(h.emulator.requestsFor(call.callId, 'accept')).toHaveLength(1);
  });

  it('acknowledges a redelivery of an accepted call without accepting again', async () => {
    const { call, body } = incomingBody();
    const first = h.emulator.signedHeaders(body);
    expect((await post(body, first)).status).toBe(200);
    // A retry carries the same webhook-id with a fresh timestamp and signature.
    const retry = h.emulator.signedHeaders(body, { webhookId: first['webhook-id'], timestamp: Math.floor(Date.now() / 1000) + 1 });
    expect((await post(body, retry)).status).toBe(200);
    expect(h.emulator.requestsFor(call.callId, 'accept')).toHaveLength(1);
  });
});

describe('webhook secrets', () => {
  const oldSecret = newWebhookSecret();
  const newSecret = newWebhookSecret();
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ OPENAI_WEBHOOK_SECRET: `${oldSecret}, ${newSecret}` });
  });
  afterAll(async () => h.close());

  it.each([
    ['the old secret', oldSecret],
    ['the new secret', newSecret],
  ])('accepts a webhook signed with %s during a rotation', async (_name, secret) => {
    const { delivery, call } = await (async () => {
      const c = h.emulator.createCall();
      const body = JSON.stringify(h.emulator.incomingEvent(c));
      return { call: c, delivery: await h.emulator.deliver(h.webhookUrl, body, { secret }) };
    })();
    expect(delivery.status).toBe(200);
    expect(h.emulator.requestsFor(call.callId, 'accept')).toHaveLength(1);
  });

  it('accepts when any one of several signatures in the header matches', async () => {
    const call = h.emulator.createCall();
    const body = JSON.stringify(h.emulator.incomingEvent(call));
    const headers = h.emulator.signedHeaders(body, { secret: newSecret });
    const stranger = signWebhook(newWebhookSecret(), headers['webhook-id'], headers['webhook-timestamp'], body);
    headers['webhook-signature'] = `${stranger} ${headers['webhook-signature']}`;
    const response = await fetch(h.webhookUrl, { method: 'POST', headers, body });
    expect(response.status).toBe(200);
  });
});

describe("openai-node's published signature test vector", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ OPENAI_WEBHOOK_SECRET: VECTOR.secret });
  });
  afterAll(async () => h.close());
  afterEach(() => {
    jest.useRealTimers();
  });

  const send = () =>
    fetch(h.webhookUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': VECTOR.id,
        'webhook-timestamp': String(VECTOR.timestamp),
        'webhook-signature': VECTOR.signature,
      },
      body: VECTOR.payload,
    });

  it('verifies with the clock pinned to its timestamp', async () => {
    // Only Date is pinned: the server's timers and sockets keep running on real time.
    jest.useFakeTimers({
      now: VECTOR.timestamp * 1000,
      advanceTimers: true,
      doNotFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'nextTick', 'queueMicrotask', 'hrtime', 'performance'],
    });
    expect((await send()).status).toBe(200);
  });

  it('is refused as stale on the real clock', async () => {
    expect((await send()).status).toBe(400);
  });

  it('is what our emulator signs', () => {
    expect(signWebhook(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.payload)).toBe(VECTOR.signature);
  });
});

function without(headers: Record<string, string>, name: string): Record<string, string> {
  const copy = { ...headers };
  delete copy[name];
  return copy;
}

export { TEST_API_KEY };
