import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import type { Response } from 'express';
import { FeedLog, RESET } from './feed-log.js';
import type { FeedEntry, FeedEvent } from './feed-event.js';
import { Clock, type Timer } from '#resilience';

/** A comment line this often keeps proxies and load balancers from closing an idle stream. */
export const HEARTBEAT_MS = 15_000;
/** A console that reads slower than this much is behind is cut off: it reconnects and resumes from its last id. */
export const MAX_BUFFERED_BYTES = 1024 * 1024;
/**
 * Live entries are gathered for this long and written to each console in one write. Each tick's entries are framed
 * and encoded once, and the same bytes are written to every console that follows the whole feed: under load (700
 * events/s for 1,000 calls, 20 consoles) framing and encoding per console was most of the feed's CPU.
 */
export const FLUSH_MS = 25;
/** What the browser waits before reconnecting (EventSource's `retry:`). */
const RETRY_MS = 2000;

export interface StreamOptions {
  lastEventId?: string;
  /** Only this call's events (a call page). */
  callId?: string;
}

/** One open stream, as the fan-out sees it. */
interface Stream {
  readonly response: Response;
  /** The call it follows, if it is a call page's. */
  readonly callId?: string;
  /** Frames waiting for the next flush (a call page's stream only: the others share the tick's). */
  pending: string;
  closed: boolean;
}

/**
 * The console's Server-Sent Event streams. A stream subscribes before it replays (so nothing published meanwhile
 * is missed), replays what came after the browser's Last-Event-ID, and then follows the feed; a replayed entry is
 * never sent twice. Once caught up, a stream joins the fan-out: one subscription to the feed for every stream, each
 * entry framed once, and every FLUSH_MS the tick's frames written as one buffer to every stream of the whole feed
 * (a call page's stream gets its call's frames). Streams are ended when the application shuts down (an open
 * stream would hold the server open).
 */
@Injectable()
export class FeedStreams implements BeforeApplicationShutdown {
  private readonly open = new Set<Response>();
  /** Caught-up streams of the whole feed. */
  private readonly followers = new Set<Stream>();
  /** Caught-up streams of one call each, by call. */
  private readonly callFollowers = new Map<string, Set<Stream>>();
  /** Call pages' streams with frames waiting. */
  private readonly dirty = new Set<Stream>();
  /** This tick's frames, for the followers of the whole feed. */
  private tick: string[] = [];
  private flushTimer?: Timer;
  private unsubscribe?: () => void;
  private slowCutoffs = 0;

  constructor(
    private readonly feed: FeedLog,
    private readonly clock: Clock,
  ) {}

  get connected(): number {
    return this.open.size;
  }

  /** Streams ended because their console fell more than MAX_BUFFERED_BYTES behind. */
  get cutoffs(): number {
    return this.slowCutoffs;
  }

  async stream(response: Response, options: StreamOptions): Promise<void> {
    response.status(200);
    response.setHeader('content-type', 'text/event-stream; charset=utf-8');
    response.setHeader('cache-control', 'no-store');
    response.setHeader('x-accel-buffering', 'no');
    response.flushHeaders();
    this.open.add(response);

    const stream: Stream = { response, ...(options.callId !== undefined ? { callId: options.callId } : {}), pending: '', closed: false };
    let heartbeat: Timer | undefined;
    const { lastEventId } = options;
    const wanted = (entry: FeedEntry) =>
      (options.callId === undefined || entry.callId === options.callId) && (lastEventId === undefined || this.feed.isAfter(entry.id, lastEventId));
    // Until it has caught up, the stream keeps what is published on its own (the replay may take a database read).
    const buffered: FeedEntry[] = [];
    let unsubscribeOwn: (() => void) | undefined = this.feed.subscribe((entry) => {
      if (wanted(entry)) buffered.push(entry);
    });
    const beat = () => {
      if (stream.callId === undefined) this.flush();
      else this.flushOne(stream);
      this.write(stream, ': ping\n\n');
      heartbeat = this.clock.setTimeout(beat, HEARTBEAT_MS);
    };
    response.on('close', () => {
      stream.closed = true;
      unsubscribeOwn?.();
      this.leave(stream);
      this.clock.clearTimeout(heartbeat);
      this.open.delete(response);
    });

    this.write(stream, `retry: ${RETRY_MS}\n\n`);
    const head = this.feed.head;
    const replay = lastEventId === undefined ? [] : await this.feed.since(lastEventId);
    if (stream.closed) return;
    const replayed = new Set<string>();
    if (replay === RESET) this.write(stream, frameOf(head, { type: 'reset' }));
    else if (lastEventId === undefined) this.write(stream, frameOf(head, { type: 'hello' }));
    else {
      for (const entry of replay) {
        replayed.add(entry.id);
        if (wanted(entry)) this.write(stream, frameOf(entry.id, entry.data));
      }
    }
    // The whole feed's tick so far is in `buffered` too: it goes out to the others first, so this stream gets it once.
    if (stream.callId === undefined) this.flush();
    for (const entry of buffered) if (!replayed.has(entry.id)) this.write(stream, frameOf(entry.id, entry.data));
    unsubscribeOwn();
    unsubscribeOwn = undefined;
    this.join(stream);
    heartbeat = this.clock.setTimeout(beat, HEARTBEAT_MS);
  }

  private join(stream: Stream): void {
    if (stream.callId === undefined) this.followers.add(stream);
    else {
      let streams = this.callFollowers.get(stream.callId);
      if (!streams) this.callFollowers.set(stream.callId, (streams = new Set()));
      streams.add(stream);
    }
    this.unsubscribe ??= this.feed.subscribe((entry) => this.route(entry));
  }

  private leave(stream: Stream): void {
    this.followers.delete(stream);
    this.dirty.delete(stream);
    if (stream.callId !== undefined) {
      const streams = this.callFollowers.get(stream.callId);
      streams?.delete(stream);
      if (streams?.size === 0) this.callFollowers.delete(stream.callId);
    }
    if (this.followers.size === 0 && this.callFollowers.size === 0) {
      this.unsubscribe?.();
      this.unsubscribe = undefined;
      this.tick = [];
    }
  }

  /** One published entry, framed once, to whoever follows it. */
  private route(entry: FeedEntry): void {
    const calls = entry.callId === undefined ? undefined : this.callFollowers.get(entry.callId);
    if (this.followers.size === 0 && !calls) return;
    const frame = frameOf(entry.id, entry.data);
    if (this.followers.size > 0) this.tick.push(frame);
    if (calls) {
      for (const stream of calls) {
        stream.pending += frame;
        this.dirty.add(stream);
      }
    }
    this.flushTimer ??= this.clock.setTimeout(() => {
      this.flushTimer = undefined;
      this.flush();
    }, FLUSH_MS);
  }

  /** Writes what has gathered: the tick's frames to the whole feed's streams as one buffer, and the call pages'. */
  private flush(): void {
    if (this.tick.length > 0) {
      const bytes = Buffer.from(this.tick.join(''));
      this.tick = [];
      for (const stream of this.followers) this.write(stream, bytes);
    }
    for (const stream of this.dirty) this.flushOne(stream);
    this.dirty.clear();
  }

  private flushOne(stream: Stream): void {
    const text = stream.pending;
    stream.pending = '';
    this.dirty.delete(stream);
    if (text) this.write(stream, text);
  }

  private write(stream: Stream, chunk: string | Buffer): void {
    if (stream.closed) return;
    stream.response.write(chunk);
    if (stream.response.writableLength > MAX_BUFFERED_BYTES) {
      this.slowCutoffs++;
      stream.closed = true;
      stream.response.end();
    }
  }

  beforeApplicationShutdown(): void {
    this.flush();
    this.clock.clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    for (const response of this.open) response.end();
    this.open.clear();
  }
}

/** One SSE message: its id (none when empty) and its data (an event, or one serialized already). */
function frameOf(id: string, data: FeedEvent | string): string {
  return `${id ? `id: ${id}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}
