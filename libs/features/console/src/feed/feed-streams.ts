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
 * Live entries are gathered for this long and written to each console in one write: under load (700 events/s for
 * 1,000 calls) a write per entry per console was most of the feed's CPU.
 */
export const FLUSH_MS = 10;
/** What the browser waits before reconnecting (EventSource's `retry:`). */
const RETRY_MS = 2000;

export interface StreamOptions {
  lastEventId?: string;
  /** Only this call's events (a call page). */
  callId?: string;
}

/**
 * The console's Server-Sent Event streams. A stream subscribes before it replays (so nothing published meanwhile
 * is missed), replays what came after the browser's Last-Event-ID, and then follows the feed; a replayed entry is
 * never sent twice. Streams are ended when the application shuts down (an open stream would hold the server open).
 */
@Injectable()
export class FeedStreams implements BeforeApplicationShutdown {
  private readonly open = new Set<Response>();
  /** Streams with live entries waiting for the next flush, and how to flush each. */
  private readonly dirty = new Map<Response, () => void>();
  private flushTimer?: Timer;
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

    let heartbeat: Timer | undefined;
    let closed = false;
    let buffered: FeedEntry[] | undefined = [];
    const replayed = new Set<string>();
    const { lastEventId } = options;
    const wanted = (entry: FeedEntry) =>
      (options.callId === undefined || entry.callId === options.callId) && (lastEventId === undefined || this.feed.isAfter(entry.id, lastEventId));
    const write = (text: string) => {
      if (closed) return;
      response.write(text);
      if (response.writableLength > MAX_BUFFERED_BYTES) {
        this.slowCutoffs++;
        response.end();
      }
    };
    const frame = (entry: FeedEntry) => frameOf(entry.id, entry.data);
    const send = (entry: FeedEntry) => write(frame(entry));
    let pending = '';
    const flush = () => {
      const text = pending;
      pending = '';
      if (text) write(text);
    };
    const unsubscribe = this.feed.subscribe((entry) => {
      if (!wanted(entry)) return;
      if (buffered) buffered.push(entry);
      else {
        pending += frame(entry);
        this.markDirty(response, flush);
      }
    });
    const beat = () => {
      flush();
      write(': ping\n\n');
      heartbeat = this.clock.setTimeout(beat, HEARTBEAT_MS);
    };
    response.on('close', () => {
      closed = true;
      this.dirty.delete(response);
      unsubscribe();
      this.clock.clearTimeout(heartbeat);
      this.open.delete(response);
    });

    write(`retry: ${RETRY_MS}\n\n`);
    const head = this.feed.head;
    const replay = options.lastEventId === undefined ? [] : await this.feed.since(options.lastEventId);
    if (replay === RESET) write(frameOf(head, { type: 'reset' }));
    else if (options.lastEventId === undefined) write(frameOf(head, { type: 'hello' }));
    else {
      for (const entry of replay) {
        replayed.add(entry.id);
        if (wanted(entry)) send(entry);
      }
    }
    for (const entry of buffered) if (!replayed.has(entry.id)) send(entry);
    buffered = undefined;
    heartbeat = this.clock.setTimeout(beat, HEARTBEAT_MS);
  }

  private markDirty(response: Response, flush: () => void): void {
    this.dirty.set(response, flush);
    this.flushTimer ??= this.clock.setTimeout(() => {
      this.flushTimer = undefined;
      const due = [...this.dirty.values()];
      this.dirty.clear();
      for (const flushOne of due) flushOne();
    }, FLUSH_MS);
  }

  beforeApplicationShutdown(): void {
    for (const flush of this.dirty.values()) flush();
    this.dirty.clear();
    this.clock.clearTimeout(this.flushTimer);
    for (const response of this.open) response.end();
    this.open.clear();
  }
}

/** One SSE message: its id (none when empty) and its data (an event, or one serialized already). */
function frameOf(id: string, data: FeedEvent | string): string {
  return `${id ? `id: ${id}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}
