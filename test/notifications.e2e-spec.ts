import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DISCORD_SUCCESS_SHAPES, FakeDiscord, script, type FakeDiscordMessage } from '#emulator';
import { Notifications } from '#notifications';
import { NotificationOutbox } from '#storage';
import { startHarness, type Harness } from './support/harness.js';

const codePoints = (text: string) => [...text].length;

/**
 * The lines a webhook received, in order, without the call headers the queue adds and without the recap of the
 * transcript that follows each call's summary line.
 */
function posted(messages: FakeDiscordMessage[]): string[] {
  const lines: string[] = [];
  let inRecap = false;
  for (const line of messages.flatMap((m) => m.content.split('\n'))) {
    if (line.startsWith('**📞 call')) {
      inRecap = false;
      continue;
    }
    if (inRecap) continue;
    lines.push(line);
    if (line.startsWith('☎️ **Call ended**')) inRecap = true;
  }
  return lines;
}

describe('live transcripts in Discord', () => {
  let discord: FakeDiscord;
  let h: Harness;
  let webhookId: string;

  beforeAll(async () => {
    discord = await new FakeDiscord().start();
    const url = discord.webhookUrl();
    webhookId = FakeDiscord.webhookIdOf(url);
    h = await startHarness({ DISCORD_WEBHOOK_URL: url, DISCORD_REQUEST_TIMEOUT_MS: '700', NOTIFY_MAX_BACKOFF_MS: '400' });
  });
  afterAll(async () => {
    await h.close();
    await discord.stop();
  });

  /** Places a call and waits until its summary has been posted. */
  async function call(conversation = script().callerSays('Hello').agentSays('Hi there!').hangup()) {
    const before = discord.messagesFor(webhookId).length;
    const { call } = await h.emulator.placeCall(h.webhookUrl, { script: conversation });
    await h.bus.waitFor('call.transcript.completed', (e) => e.callId === call.callId);
    await h.app.get(Notifications).idle();
    return { callId: call.callId, messages: discord.messagesFor(webhookId).slice(before) };
  }

  it('posts the announcement, every line in conversation order, then the summary — safely', async () => {
    const { messages, callId } = await call(
      script()
        .callerSays('Hi, tell @everyone that **this** is [urgent](http://evil.example)', { transcription: 'late' })
        .agentSays('I will pass it on.')
        .callerSays('Thanks!')
        .agentSays('Goodbye.')
        .hangup(),
    );
    const lines = posted(messages);
    expect(lines[0]).toMatch(/^📞 \*\*Incoming call\*\* from \+14155550123 to \+18005551212/);
    const transcript = lines.filter((l) => /^(Caller|Agent):/.test(l));
    expect(transcript.slice(0, 4)).toEqual([
      expect.stringMatching(/^Caller: Hi, tell @\u200beveryone that \\\*\\\*this\\\*\\\* is \\\[urgent\\\]\\\(http/),
      'Agent: I will pass it on.',
      'Caller: Thanks!',
      'Agent: Goodbye.',
    ]);
    expect(lines.some((l) => l.startsWith('☎️ **Call ended**'))).toBe(true);
    expect(messages[0].content).toContain(callId.slice(-6));
    for (const message of messages) {
      expect(message.allowedMentions).toEqual({ parse: [] });
      expect(message.flags).toBe(4);
      expect(message.wait).toBe(true);
      expect(codePoints(message.content)).toBeLessThanOrEqual(2000);
      expect(message.content).not.toMatch(/\]\(http/);
    }
  });

  it.each(DISCORD_SUCCESS_SHAPES)('takes every answer shape of a saved message (%s): each line once, in order, no resend', async (shape) => {
    discord.setReplyShape(webhookId, shape);
    try {
      const requestsBefore = discord.requests.filter((r) => r.webhookId === webhookId).length;
      const { messages } = await call(script().callerSays('First question?').agentSays('First answer.').callerSays('Second?').agentSays('Second answer.').hangup());
      const lines = posted(messages);
      expect(lines.filter((l) => /^(Caller|Agent):/.test(l))).toEqual(['Caller: First question?', 'Agent: First answer.', 'Caller: Second?', 'Agent: Second answer.']);
      expect(lines.filter((l) => l.startsWith('☎️ **Call ended**'))).toHaveLength(1);
      // The whole call, once, in order: the announcement, every line, the summary last.
      expect(lines).toEqual([
        expect.stringMatching(/^📞 \*\*Incoming call\*\*/),
        'Caller: First question?',
        'Agent: First answer.',
        'Caller: Second?',
        'Agent: Second answer.',
        expect.stringMatching(/^☎️ \*\*Call ended\*\*/),
      ]);
      // Every request was a delivery taken as such: none was sent again.
      expect(discord.requests.filter((r) => r.webhookId === webhookId).length - requestsBefore).toBe(messages.length);
    } finally {
      discord.setReplyShape(webhookId, undefined);
    }
  });

  const PROXY_PAGE = { text: '<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>', contentType: 'text/html' };

  it.each([
    ['a 502 whose body is a proxy\'s HTML page', { status: 502, raw: PROXY_PAGE }, 400],
    ['a 500 with an empty body labelled JSON', { status: 500, raw: { text: '', contentType: 'application/json' } }, 400],
    ['a 429 with only a Retry-After header, no JSON', { status: 429, raw: { text: '' }, headers: { 'retry-after': '2' } }, 2000],
  ])('retries after %s, waiting before it, and loses nothing', async (_name, fault, waitMs) => {
    discord.respondNext(webhookId, fault);
    const requestsBefore = discord.requests.length;
    const { messages } = await call(script().callerSays('Uno').agentSays('Dos').callerSays('Tres').hangup());
    const requests = discord.requests.slice(requestsBefore).filter((r) => r.webhookId === webhookId);
    // Classified by its status whatever the body: one failure, then the same message again, not before the wait
    // (a backoff of NOTIFY_MAX_BACKOFF_MS for a 5xx, the Retry-After for the 429).
    expect(requests.map((r) => r.status)).toEqual([fault.status, ...messages.map(() => 200)]);
    expect(requests[1].at - requests[0].at).toBeGreaterThanOrEqual(waitMs);
    expect(posted(messages)).toEqual([
      expect.stringMatching(/^📞 \*\*Incoming call\*\*/),
      'Caller: Uno',
      'Agent: Dos',
      'Caller: Tres',
      expect.stringMatching(/^☎️ \*\*Call ended\*\*/),
    ]);
  });

  it('coalesces lines into few messages, each under the limit, and splits an over-long line on word boundaries', async () => {
    const long = Array.from({ length: 700 }, (_, i) => `word${i}`).join(' '); // ~4,800 characters
    const conversation = script().callerSays(long);
    for (let i = 0; i < 30; i++) conversation.agentSays(`Reply number ${i}.`).callerSays(`Question ${i}?`);
    const { messages } = await call(conversation.hangup());
    for (const message of messages) expect(codePoints(message.content)).toBeLessThanOrEqual(2000);
    expect(messages.length).toBeLessThan(20);
    const text = posted(messages).join(' ');
    expect(text).toContain(long.slice(0, 200));
    const words = text.match(/word\d+/g) ?? [];
    expect(words.slice(0, 700)).toEqual(Array.from({ length: 700 }, (_, i) => `word${i}`));
  });

  it('attaches the whole transcript as a file when it does not fit a message', async () => {
    const conversation = script();
    for (let i = 0; i < 40; i++) conversation.callerSays(`This is a fairly long question number ${i} about my order?`).agentSays(`And this is the answer number ${i}.`);
    const { messages } = await call(conversation.hangup());
    const summary = messages[messages.length - 1];
    expect(summary.content).toContain('the full transcript is attached');
    expect(summary.files).toHaveLength(1);
    expect(summary.files[0].content.split('\n')[0]).toBe('Caller: This is a fairly long question number 0 about my order?');
    expect(summary.files[0].content.trim().split('\n')).toHaveLength(80);
  });

  it.each([
    ['a 429', { status: 429, body: { message: 'You are being rate limited.', retry_after: 0.4, global: false } }],
    ['a global 429', { status: 429, body: { message: 'You are being rate limited.', retry_after: 0.4, global: true } }],
  ])('waits out %s before trying again, without a burst of retries, losing nothing', async (_name, response) => {
    discord.respondNext(webhookId, response);
    const requestsBefore = discord.requests.length;
    const { messages } = await call(script().callerSays('One').agentSays('Two').callerSays('Three').hangup());
    const requests = discord.requests.slice(requestsBefore).filter((r) => r.webhookId === webhookId);
    expect(requests[0].status).toBe(429);
    expect(requests[1].at - requests[0].at).toBeGreaterThanOrEqual(400);
    expect(requests.filter((r) => r.status === 429)).toHaveLength(1);
    expect(posted(messages).filter((l) => /^(Caller|Agent):/.test(l))).toEqual(['Caller: One', 'Agent: Two', 'Caller: Three']);
  });

  it('retries through 5xx answers and slow answers, in order', async () => {
    discord.respondNext(webhookId, { status: 500 }, { status: 502 }, { status: 200, delayMs: 1500 });
    const { messages } = await call(script().callerSays('Alpha').agentSays('Beta').callerSays('Gamma').agentSays('Delta').hangup());
    // A timed-out request may have been saved by Discord: a duplicate is acceptable, a loss or a reorder is not.
    const transcript = posted(messages).filter((l) => /^(Caller|Agent):/.test(l));
    const deduplicated = transcript.filter((line, i) => transcript.indexOf(line) === i);
    expect(deduplicated).toEqual(['Caller: Alpha', 'Agent: Beta', 'Caller: Gamma', 'Agent: Delta']);
  });

  it('records a message Discord refuses (400) as failed and moves on', async () => {
    discord.respondNext(webhookId, { status: 400, body: { code: 50035, message: 'Invalid Form Body' } });
    // Nobody speaks for a moment: the announcement goes out as a message of its own (lines stored together with it
    // would share its message, and a refused message of several notifications is retried one by one).
    const { messages } = await call(script().pause(300).callerSays('After the bad one').agentSays('Still here').hangup());
    const lines = posted(messages);
    expect(lines.some((l) => l.startsWith('📞 **Incoming call**'))).toBe(false); // the refused announcement
    expect(lines.filter((l) => /^(Caller|Agent):/.test(l))).toEqual(['Caller: After the bad one', 'Agent: Still here']);
  });
});

describe('a dead Discord webhook', () => {
  let discord: FakeDiscord;
  let h: Harness;

  beforeAll(async () => {
    discord = await new FakeDiscord().start();
    const url = discord.webhookUrl();
    discord.deleteWebhook(FakeDiscord.webhookIdOf(url));
    h = await startHarness({ DISCORD_WEBHOOK_URL: url });
  });
  afterAll(async () => {
    await h.close();
    await discord.stop();
  });

  it('is disabled after one 404, logged once, and readiness reports it degraded', async () => {
    for (let i = 0; i < 2; i++) {
      const { call } = await h.emulator.placeCall(h.webhookUrl, { script: script().callerSays('Hello').agentSays('Hi').hangup() });
      await h.bus.waitFor('call.transcript.completed', (e) => e.callId === call.callId);
    }
    await h.app.get(Notifications).idle();
    expect(discord.requests.map((r) => r.status)).toEqual([404]);
    const ready = await fetch(`${h.baseUrl}/health/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; details: { notifications: { status: string; disabled: string[] } } };
    expect(body.details.notifications.status).toBe('degraded');
    expect(JSON.stringify(body)).not.toContain(discord.webhookUrl().split('/').pop());
  });
});

describe('notifications for a destination no longer configured', () => {
  it('are recorded as failed at the next start, instead of staying pending for ever', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'bridge-orphans-'));
    const first = await startHarness({ DATA_DIR: dataDir });
    const outbox = first.app.get(NotificationOutbox);
    await outbox.enqueue([{ destination: 'discord:removed-profile', callId: null, dedupeKey: 'orphan-1', payload: { kind: 'text', text: 'left behind' } }]);
    expect(await outbox.pending('discord:removed-profile')).toHaveLength(1);
    await first.close();

    const second = await startHarness({ DATA_DIR: dataDir });
    try {
      expect(await second.app.get(NotificationOutbox).pending('discord:removed-profile')).toHaveLength(0);
    } finally {
      await second.close();
    }
  });
});
