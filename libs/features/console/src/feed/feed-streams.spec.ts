import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from '@jest/globals';
import express from 'express';
import type { FeedEntry } from './feed-event.js';
import { RESET } from './feed-log.js';
import { FeedStreams } from './feed-streams.js';
import { MemoryFeedLog } from './memory-feed-log.js';
import { systemClock } from '#resilience';

/** A feed whose replay waits for `release`, and which counts its subscriptions. */
class GatedFeed extends MemoryFeedLog {
  subscriptions = 0;
  gate?: Promise<void>;
  override subscribe(listener: (entry: FeedEntry) => void): () => void {
    this.subscriptions++;
    const unsubscribe = super.subscribe(listener);
    return () => {
      this.subscriptions--;
      unsubscribe();
    };
  }
  override async since(lastEventId: string): Promise<FeedEntry[] | typeof RESET> {
    const entries = await super.since(lastEventId);
    await this.gate;
    return entries;
  }
}

/** An SSE reader: every message's id and parsed data, in order. */
class Reader {
  readonly messages: Array<{ id?: string; data: { type: string; callId?: string; item?: { message: string } } }> = [];
  private readonly abort = new AbortController();
  private constructor() {}

  static async open(url: string, headers: Record<string, string> = {}): Promise<Reader> {
    const reader = new Reader();
    const response = await fetch(url, { headers, signal: reader.abort.signal });
    void reader.read(response.body!).catch(() => {});
    return reader;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of body) {
      buffer += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const id = /^id: (.*)$/m.exec(frame)?.[1];
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (data !== undefined) this.messages.push({ ...(id !== undefined ? { id } : {}), data: JSON.parse(data) });
      }
    }
  }

  /** The messages of the timeline, by their error item's text. */
  get texts(): string[] {
    return this.messages.filter((m) => m.data.type === 'timeline').map((m) => m.data.item!.message);
  }

  close(): void {
    this.abort.abort();
  }
}

const event = (callId: string, message: string) => ({ type: 'timeline' as const, callId, item: { kind: 'error' as const, at: new Date(0), message } });

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await sleep(10);
  expect(check()).toBe(true);
}

describe('FeedStreams', () => {
  const cleanup: Array<() => unknown> = [];
  afterEach(async () => {
    for (const undo of cleanup.splice(0).reverse()) await undo();
  });

  async function serve(feed: MemoryFeedLog) {
    const streams = new FeedStreams(feed, systemClock);
    const app = express();
    app.get('/feed', (request, response) => {
      const lastEventId = request.header('last-event-id');
      const callId = request.query.callId as string | undefined;
      void streams.stream(response, { ...(lastEventId ? { lastEventId } : {}), ...(callId ? { callId } : {}) });
    });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    cleanup.push(() => {
      streams.beforeApplicationShutdown();
      server.closeAllConnections();
      server.close();
    });
    return { streams, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed` };
  }

  it('writes every entry once, in order, to every console of the whole feed, and a call page only its call', async () => {
    const feed = new GatedFeed(1000);
    const { streams, url } = await serve(feed);
    const a = await Reader.open(url);
    const b = await Reader.open(url);
    const page = await Reader.open(`${url}?callId=rtc_1`);
    cleanup.push(() => [a, b, page].forEach((r) => r.close()));
    await until(() => streams.connected === 3 && a.messages.length === 1 && b.messages.length === 1 && page.messages.length === 1);
    expect(a.messages[0].data.type).toBe('hello');

    const sent: string[] = [];
    for (let i = 0; i < 50; i++) {
      feed.publish(event(`rtc_${i % 3}`, `m${i}`));
      sent.push(`m${i}`);
      if (i % 10 === 0) await sleep(5);
    }
    await until(() => a.texts.length === 50 && b.texts.length === 50 && page.texts.length === 17);
    expect(a.texts).toEqual(sent);
    expect(b.texts).toEqual(sent);
    expect(page.texts).toEqual(sent.filter((_, i) => i % 3 === 1));
    expect(b.messages.map((m) => m.id)).toEqual(a.messages.map((m) => m.id));
    // One subscription serves every caught-up stream; none is left when they are gone.
    expect(feed.subscriptions).toBe(1);
    [a, b, page].forEach((r) => r.close());
    await until(() => streams.connected === 0);
    expect(feed.subscriptions).toBe(0);
  });

  it('resumes a console without a gap or a repeat while the feed goes on during its replay', async () => {
    const feed = new GatedFeed(1000);
    const { url } = await serve(feed);
    const follower = await Reader.open(url);
    cleanup.push(() => follower.close());
    for (let i = 0; i < 5; i++) feed.publish(event('rtc_1', `m${i}`));
    await until(() => follower.texts.length === 5);
    const lastEventId = follower.messages.at(-3)!.id!; // the console had m0..m2

    let release!: () => void;
    feed.gate = new Promise((resolve) => (release = resolve));
    const resumed = await Reader.open(url, { 'last-event-id': lastEventId });
    cleanup.push(() => resumed.close());
    // Published while the replay waits: some flushed to the follower already, the last in the tick not yet written.
    feed.publish(event('rtc_1', 'm5'));
    await sleep(60);
    feed.publish(event('rtc_2', 'm6'));
    feed.publish(event('rtc_1', 'm7'));
    release();
    feed.publish(event('rtc_1', 'm8'));
    const all = Array.from({ length: 9 }, (_, i) => `m${i}`);
    await until(() => follower.texts.length === 9 && resumed.texts.length === 6);
    expect(follower.texts).toEqual(all);
    expect(resumed.texts).toEqual(all.slice(3));
    const ids = resumed.messages.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('tells a console it cannot resume to reset, then follows the feed', async () => {
    const feed = new GatedFeed(2);
    const { url } = await serve(feed);
    const resumed = await Reader.open(url, { 'last-event-id': '00000000-1' });
    cleanup.push(() => resumed.close());
    await until(() => resumed.messages.length === 1);
    expect(resumed.messages[0].data.type).toBe('reset');
    feed.publish(event('rtc_1', 'after'));
    await until(() => resumed.texts.length === 1);
  });
});
