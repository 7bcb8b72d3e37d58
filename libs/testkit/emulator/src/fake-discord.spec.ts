import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { DISCORD_SUCCESS_SHAPES, FakeDiscord, type DiscordSuccessShape } from './fake-discord.js';

const idOf = (url: string) => FakeDiscord.webhookIdOf(url);
const postJson = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('FakeDiscord', () => {
  let discord: FakeDiscord;
  let url: string;
  let id: string;

  beforeEach(async () => {
    discord = await new FakeDiscord().start();
    url = discord.webhookUrl();
    id = idOf(url);
  });
  afterEach(() => discord.stop());

  it('hands out a new webhook per call, or the same one for a given id', () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/webhooks\/\d+\/[\w-]+$/);
    expect(discord.webhookUrl()).not.toBe(url);
    expect(discord.webhookUrl(id)).toBe(url);
    expect(idOf(discord.webhookUrl('alerts'))).toBe('alerts');
  });

  it('records a JSON message and answers 204, or 200 with the message object with ?wait=true', async () => {
    const plain = await postJson(url, { content: 'Caller: hi @everyone', allowed_mentions: { parse: [] }, flags: 4 });
    expect(plain.status).toBe(204);
    expect(await plain.text()).toBe('');

    const waited = await postJson(`${url}?wait=true`, { content: 'Agent: hello' });
    expect(waited.status).toBe(200);
    const object = (await waited.json()) as Record<string, unknown>;
    expect(object).toMatchObject({ content: 'Agent: hello', webhook_id: id, type: 0 });
    expect(typeof object.id).toBe('string');

    expect(discord.messagesFor(id)).toEqual([
      expect.objectContaining({ webhookId: id, content: 'Caller: hi @everyone', allowedMentions: { parse: [] }, flags: 4, files: [], wait: false }),
      expect.objectContaining({ id: object.id, content: 'Agent: hello', allowedMentions: undefined, wait: true }),
    ]);
    expect(discord.requests.map((r) => r.status)).toEqual([204, 200]);
    expect(discord.messages[0].receivedAt).toBeLessThanOrEqual(performance.now());
  });

  it('records a multipart message with payload_json and a file', async () => {
    const form = new FormData();
    form.append('payload_json', JSON.stringify({ content: 'Full transcript attached', allowed_mentions: { parse: [] } }));
    form.append('files[0]', new Blob(['Caller: hi\nAgent: hello 😀\n'], { type: 'text/plain' }), 'transcript.txt');
    const response = await fetch(`${url}?wait=true`, { method: 'POST', body: form });
    expect(response.status).toBe(200);
    const object = (await response.json()) as { attachments: Array<{ filename: string; size: number }> };
    expect(object.attachments).toEqual([expect.objectContaining({ filename: 'transcript.txt', size: Buffer.byteLength('Caller: hi\nAgent: hello 😀\n') })]);
    expect(discord.messages).toEqual([
      expect.objectContaining({
        content: 'Full transcript attached',
        allowedMentions: { parse: [] },
        files: [{ name: 'transcript.txt', content: 'Caller: hi\nAgent: hello 😀\n' }],
      }),
    ]);
  });

  it('accepts a file without content, and refuses an empty message with 400 50035', async () => {
    const form = new FormData();
    form.append('files[0]', new Blob(['x']), 'a.txt');
    expect((await fetch(url, { method: 'POST', body: form })).status).toBe(204);

    for (const body of [{}, { content: '' }, { content: '   ' }]) {
      const response = await postJson(url, body);
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ code: 50035 });
    }
    expect(discord.messages).toHaveLength(1);
  });

  it('counts content in code points: 2000 pass, 2001 get 400 50035', async () => {
    expect((await postJson(url, { content: '😀'.repeat(2000) })).status).toBe(204); // 4000 UTF-16 units
    const tooLong = await postJson(url, { content: 'a'.repeat(2001) });
    expect(tooLong.status).toBe(400);
    expect(await tooLong.json()).toMatchObject({ code: 50035, errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH' }] } } });
    expect(discord.messages).toHaveLength(1);
    expect(discord.requests.map((r) => r.status)).toEqual([204, 400]);
  });

  it('refuses invalid JSON and bad allowed_mentions', async () => {
    const broken = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"content":' });
    expect(broken.status).toBe(400);
    expect(await broken.json()).toMatchObject({ code: 50109 });
    const mentions = await postJson(url, { content: 'x', allowed_mentions: { parse: ['nobody'] } });
    expect(mentions.status).toBe(400);
    expect(await mentions.json()).toMatchObject({ code: 50035 });
  });

  it('answers 404 to anything but POST on a webhook path, 401 to a wrong token, 404 to a deleted webhook', async () => {
    expect((await fetch(url)).status).toBe(404);
    expect((await postJson(`${discord.baseUrl}/api/channels/1/messages`, { content: 'x' })).status).toBe(404);
    expect((await postJson(`${discord.baseUrl}/api/webhooks/999/token`, { content: 'x' })).status).toBe(404);

    const wrongToken = await postJson(url.replace(/[^/]+$/, 'wrong'), { content: 'x' });
    expect(wrongToken.status).toBe(401);
    expect(await wrongToken.json()).toEqual({ message: 'Invalid Webhook Token', code: 50027 });

    discord.deleteWebhook(id);
    const dead = await postJson(url, { content: 'x' });
    expect(dead.status).toBe(404);
    expect(await dead.json()).toEqual({ message: 'Unknown Webhook', code: 10015 });
    expect(discord.messages).toEqual([]);
    expect(discord.requests.map((r) => [r.webhookId, r.status])).toEqual([
      [id, 404],
      ['', 404],
      ['999', 404],
      [id, 401],
      [id, 404],
    ]);
  });

  it('accepts the versioned path /api/v10/webhooks/…', async () => {
    expect((await postJson(url.replace('/api/', '/api/v10/'), { content: 'x' })).status).toBe(204);
  });

  it('answers queued faults in order, then goes back to normal', async () => {
    discord.respondNext(
      id,
      { status: 429, body: { retry_after: 0.3, global: false, message: 'You are being rate limited.' } },
      { status: 500 },
      { status: 400, body: { code: 50035 } },
    );
    const limited = await postJson(url, { content: 'one' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(limited.headers.get('x-ratelimit-reset-after')).toBe('0.300');
    expect(await limited.json()).toEqual({ retry_after: 0.3, global: false, message: 'You are being rate limited.' });
    expect((await postJson(url, { content: 'one' })).status).toBe(500);
    expect((await postJson(url, { content: 'one' })).status).toBe(400);
    expect(discord.messages).toEqual([]);
    expect((await postJson(url, { content: 'one' })).status).toBe(204);
    expect(discord.messages.map((m) => m.content)).toEqual(['one']);
    expect(discord.requests.map((r) => r.status)).toEqual([429, 500, 400, 204]);
  });

  it('a slow 2xx fault records the message on arrival and answers late', async () => {
    discord.respondNext(id, { status: 200, delayMs: 300 });
    const started = performance.now();
    const pending = postJson(`${url}?wait=true`, { content: 'slow' });
    await discord.waitForMessages(id, 1, 1000);
    expect(performance.now() - started).toBeLessThan(250);
    const response = await pending;
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ content: 'slow' });
  });

  it('a slow fault the client gives up on still leaves the message recorded', async () => {
    discord.respondNext(id, { status: 204, delayMs: 2000 });
    await expect(fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"content":"x"}', signal: AbortSignal.timeout(100) })).rejects.toThrow();
    expect(discord.messages.map((m) => m.content)).toEqual(['x']);
  });

  it('waitForMessages waits for the count and rejects on timeout', async () => {
    const waiting = discord.waitForMessages(id, 2, 2000);
    await postJson(url, { content: 'a' });
    await postJson(url, { content: 'b' });
    expect((await waiting).map((m) => m.content)).toEqual(['a', 'b']);
    await expect(discord.waitForMessages(id, 3, 50)).rejects.toThrow(/2 of 3 messages/);
  });
});

/** What each reply shape puts on the wire for a saved message. */
const WIRE: Record<DiscordSuccessShape, { status: number; contentType: string | null; chunked: boolean; body: 'message' | 'extra' | '' }> = {
  message: { status: 200, contentType: 'application/json', chunked: false, body: 'message' },
  'no-content': { status: 204, contentType: null, chunked: false, body: '' },
  empty: { status: 200, contentType: null, chunked: false, body: '' },
  'empty-json-chunked': { status: 200, contentType: 'application/json', chunked: true, body: '' },
  'extra-fields': { status: 200, contentType: 'application/json; charset=utf-8', chunked: false, body: 'extra' },
};

describe('FakeDiscord reply shapes', () => {
  let discord: FakeDiscord | undefined;
  afterEach(async () => {
    await discord?.stop();
    discord = undefined;
  });

  /** Posts one message with `?wait=true` (as the bridge does) and reads the raw answer. */
  async function send(url: string, content: string) {
    const response = await postJson(`${url}?wait=true`, { content, allowed_mentions: { parse: [] }, flags: 4 });
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      length: response.headers.get('content-length'),
      chunked: response.headers.get('transfer-encoding') === 'chunked',
      retryAfter: response.headers.get('retry-after'),
      text: await response.text(),
    };
  }

  it('lists every shape, and each has its wire form here', () => {
    expect([...DISCORD_SUCCESS_SHAPES].sort()).toEqual(Object.keys(WIRE).sort());
  });

  it.each(DISCORD_SUCCESS_SHAPES)('answers a saved message as %s, and records it exactly as the default answer does', async (shape) => {
    discord = await new FakeDiscord().start();
    const plainUrl = discord.webhookUrl();
    const shapedUrl = discord.webhookUrl();
    const shapedId = idOf(shapedUrl);
    discord.setReplyShape(shapedId, shape);
    await send(plainUrl, 'Caller: hello');
    const answer = await send(shapedUrl, 'Caller: hello');

    const wire = WIRE[shape];
    expect(answer.status).toBe(wire.status);
    expect(answer.contentType).toBe(wire.contentType);
    expect(answer.chunked).toBe(wire.chunked);
    if (wire.chunked) expect(answer.length).toBeNull();
    else if (wire.body === '') expect(answer.length ?? '0').toBe('0');
    if (wire.body === '') expect(answer.text).toBe('');
    else {
      const object = JSON.parse(answer.text) as Record<string, unknown>;
      expect(object).toMatchObject({ content: 'Caller: hello', webhook_id: shapedId, type: 0 });
      if (wire.body === 'extra') expect(object).toHaveProperty('future_field');
      else expect(object).not.toHaveProperty('future_field');
    }

    // The message is recorded as it is with Discord's own answer: only the webhook and the id differ.
    const [plain, shaped] = discord.messages;
    const { id: _a, webhookId: _b, receivedAt: _c, ...plainRest } = plain;
    const { id: _d, webhookId, receivedAt: _e, ...shapedRest } = shaped;
    expect(webhookId).toBe(shapedId);
    expect(shapedRest).toEqual(plainRest);
    expect(shapedRest).toEqual({ content: 'Caller: hello', allowedMentions: { parse: [] }, flags: 4, embeds: [], files: [], wait: true });
    expect(discord.requests.map((r) => r.status)).toEqual([200, wire.status]);
  });

  it('the replyShape option answers every webhook; a webhook\'s own shape wins; undefined goes back to the option', async () => {
    discord = await new FakeDiscord({ replyShape: 'no-content' }).start();
    const url = discord.webhookUrl();
    const other = discord.webhookUrl();
    expect((await send(url, 'one')).status).toBe(204);
    expect((await send(other, 'two')).status).toBe(204);

    discord.setReplyShape(idOf(url), 'extra-fields');
    expect(await send(url, 'three')).toMatchObject({ status: 200, contentType: 'application/json; charset=utf-8' });
    expect((await send(other, 'four')).status).toBe(204);

    discord.setReplyShape(idOf(url), undefined);
    expect((await send(url, 'five')).status).toBe(204);
    expect(discord.messages.map((m) => m.content)).toEqual(['one', 'two', 'three', 'four', 'five']);
  });

  it('a shape does not change refusals, faults or rate limiting', async () => {
    discord = await new FakeDiscord({ replyShape: 'empty', rateLimit: { requests: 2, windowMs: 5000 } }).start();
    const url = discord.webhookUrl();
    const id = idOf(url);
    expect((await send(url, 'a'.repeat(2001))).status).toBe(400);
    discord.respondNext(id, { status: 201 }); // a queued 2xx keeps its own answer: the message object
    const queued = await send(url, 'queued');
    expect(queued.status).toBe(201);
    expect(JSON.parse(queued.text)).toMatchObject({ content: 'queued' });
    const saved = await send(url, 'saved');
    expect(saved).toMatchObject({ status: 200, text: '' });
    const limited = await send(url, 'over the limit');
    expect(limited.status).toBe(429);
    expect(JSON.parse(limited.text)).toMatchObject({ retry_after: expect.any(Number) });
    expect(discord.messages.map((m) => m.content)).toEqual(['queued', 'saved']);
  });

  it('sends a raw error body verbatim: a proxy page, an empty 500, a 429 with only Retry-After; none is recorded', async () => {
    discord = await new FakeDiscord().start();
    const url = discord.webhookUrl();
    const html = '<html><body><h1>502 Bad Gateway</h1></body></html>';
    discord.respondNext(
      idOf(url),
      { status: 502, raw: { text: html, contentType: 'text/html' } },
      { status: 500, raw: { text: '' } },
      { status: 429, raw: { text: '' }, headers: { 'retry-after': '2' } },
    );
    expect(await send(url, 'x')).toMatchObject({ status: 502, contentType: 'text/html', text: html });
    expect(await send(url, 'x')).toMatchObject({ status: 500, contentType: null, text: '' });
    const limited = await send(url, 'x');
    expect(limited).toMatchObject({ status: 429, contentType: null, retryAfter: '2', text: '' });
    expect(discord.messages).toEqual([]);
    expect(discord.requests.map((r) => r.status)).toEqual([502, 500, 429]);
  });
});

describe('FakeDiscord rate limit', () => {
  let discord: FakeDiscord;
  beforeEach(async () => {
    discord = await new FakeDiscord({ rateLimit: { requests: 5, windowMs: 2000 } }).start();
  });
  afterEach(() => discord.stop());

  it('answers the 6th immediate request 429 with Discord headers and does not record it; buckets are per webhook', async () => {
    const url = discord.webhookUrl();
    const id = idOf(url);
    const responses = [];
    for (let i = 0; i < 6; i++) responses.push(await postJson(url, { content: `m${i}` }));

    expect(responses.map((r) => r.status)).toEqual([204, 204, 204, 204, 204, 429]);
    expect(responses.map((r) => r.headers.get('x-ratelimit-remaining'))).toEqual(['4', '3', '2', '1', '0', '0']);
    for (const response of responses) {
      expect(response.headers.get('x-ratelimit-limit')).toBe('5');
      expect(response.headers.get('x-ratelimit-bucket')).toMatch(/^[0-9a-f]{32}$/);
      const resetAfter = Number(response.headers.get('x-ratelimit-reset-after'));
      expect(resetAfter).toBeGreaterThan(0);
      expect(resetAfter).toBeLessThanOrEqual(2);
    }
    const limited = responses[5];
    const body = (await limited.json()) as { retry_after: number; global: boolean; message: string };
    expect(body).toEqual({ message: 'You are being rate limited.', retry_after: expect.any(Number), global: false });
    expect(body.retry_after).toBeGreaterThan(1);
    expect(body.retry_after).toBeLessThanOrEqual(2);
    expect(limited.headers.get('retry-after')).toBe('2');
    expect(discord.messagesFor(id).map((m) => m.content)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(discord.requests.map((r) => r.status)).toEqual([204, 204, 204, 204, 204, 429]);

    const other = discord.webhookUrl();
    const fresh = await postJson(other, { content: 'elsewhere' });
    expect(fresh.status).toBe(204);
    expect(fresh.headers.get('x-ratelimit-remaining')).toBe('4');
    expect(fresh.headers.get('x-ratelimit-bucket')).not.toBe(limited.headers.get('x-ratelimit-bucket'));
  });

  it('refills after the window', async () => {
    const limited = new FakeDiscord({ rateLimit: { requests: 2, windowMs: 200 } });
    await limited.start();
    try {
      const url = limited.webhookUrl();
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await postJson(url, { content: `m${i}` })).status);
      expect(statuses).toEqual([204, 204, 429]);
      await new Promise((r) => setTimeout(r, 220));
      expect((await postJson(url, { content: 'again' })).status).toBe(204);
    } finally {
      await limited.stop();
    }
  });
});
