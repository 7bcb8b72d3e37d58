import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DiscordWebhookSink } from './discord-webhook.sink.js';
import { DISCORD_SUCCESS_SHAPES, FakeDiscord } from '#emulator';

/** The sink against the fake Discord, answering in every shape a real Discord (or a proxy before it) may use. */
describe('DiscordWebhookSink', () => {
  let discord: FakeDiscord;
  beforeAll(async () => {
    discord = await new FakeDiscord().start();
  });
  afterAll(async () => discord.stop());

  const message = (content: string) => ({ content });

  it.each(DISCORD_SUCCESS_SHAPES)('takes a saved message answered as %s as delivered', async (shape) => {
    const url = discord.webhookUrl();
    const id = FakeDiscord.webhookIdOf(url);
    discord.setReplyShape(id, shape);
    const sink = new DiscordWebhookSink(url, 2000);
    for (const text of ['first line', 'second line']) await expect(sink.send(message(text))).resolves.toEqual({ kind: 'delivered', waitMs: 0 });
    expect(discord.messagesFor(id).map((m) => m.content)).toEqual(['first line', 'second line']);
  });

  const HTML = { text: '<html><body><h1>502 Bad Gateway</h1></body></html>', contentType: 'text/html' };

  it.each([
    ['a 502 whose body is a proxy page', { status: 502, raw: HTML }, { kind: 'retry', reason: 'HTTP 502' }],
    ['an empty 500', { status: 500, raw: { text: '' } }, { kind: 'retry', reason: 'HTTP 500' }],
    ['an empty 500 labelled JSON', { status: 500, raw: { text: '', contentType: 'application/json' } }, { kind: 'retry', reason: 'HTTP 500' }],
    ['a 429 with only Retry-After', { status: 429, raw: { text: '' }, headers: { 'retry-after': '2' } }, { kind: 'retry', afterMs: 2000, reason: 'rate limited' }],
    ['a 429 with no hint at all', { status: 429, raw: { text: 'Too Many Requests', contentType: 'text/plain' }, headers: { 'retry-after': '' } }, { kind: 'retry', afterMs: 1000, reason: 'rate limited' }],
    ['a 408 proxy page', { status: 408, raw: HTML }, { kind: 'retry', reason: 'HTTP 408' }],
    ['a 400 proxy page', { status: 400, raw: HTML }, { kind: 'poison', reason: 'HTTP 400' }],
    ['an empty 404', { status: 404, raw: { text: '' } }, { kind: 'dead', reason: 'HTTP 404' }],
    ['a 401 without a code', { status: 401, body: { message: 'Unauthorized' } }, { kind: 'dead', reason: 'HTTP 401' }],
  ])('classifies %s by its status', async (_name, answer, outcome) => {
    const url = discord.webhookUrl();
    discord.respondNext(FakeDiscord.webhookIdOf(url), answer);
    await expect(new DiscordWebhookSink(url, 2000).send(message('a line'))).resolves.toEqual(outcome);
  });
});
