import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { callIdOf, type FeedEntry, type FeedEvent } from './feed-event.js';
import { FeedLog, RESET } from './feed-log.js';
import { Clock, errorMessage, type Timer } from '#resilience';
import { OrderedRetryQueue, type SharedBroadcast } from '#storage';

/** The broadcast topic of the console's feed. */
export const FEED_TOPIC = 'console';
/** How long a hole in the ids is waited for (an insert that committed late) before it is taken for a rollback. */
export const GAP_GRACE_MS = 1000;
/** A read every so often even without a notification (one lost while the listener reconnected). */
const POLL_MS = 5000;
/** How long the shared feed keeps its rows (a console away longer reloads its lists). */
export const FEED_RETENTION_MS = 60 * 60_000;
const PURGE_EVERY_MS = 5 * 60_000;
const READ_BATCH = 1000;

/**
 * The feed shared by every replica through PostgreSQL: each replica appends its own events (batched, in order,
 * retried) and reads everybody's, in id order, into its ring; ids are the rows' ids, the same on every replica, so
 * a browser may resume on any of them. A console connected to any replica sees every replica's calls.
 */
export class SharedFeedLog extends FeedLog {
  private readonly logger = new Logger('ConsoleFeed');
  private readonly ring: FeedEntry[] = [];
  private readonly listeners = new Set<(entry: FeedEntry) => void>();
  private readonly writes: OrderedRetryQueue<{ key: string | null; data: string }>;
  /** The last id delivered in order; everything up to it has been read. */
  private cursor = 0;
  private gapSince?: number;
  private reading?: Promise<void>;
  private readAgain = false;
  private poll?: Timer;
  private stopListening?: () => void;
  private lastPurge = 0;
  private stopped = false;

  constructor(
    private readonly broadcast: SharedBroadcast,
    private readonly capacity: number,
    private readonly clock: Clock,
  ) {
    super();
    this.writes = new OrderedRetryQueue({
      what: 'console feed events',
      logger: this.logger,
      clock,
      apply: async (items) => void (await this.broadcast.append(FEED_TOPIC, items)),
      take: (queue) => Math.min(queue.length, 500),
    });
  }

  /** Starts following the shared feed from its newest entry. */
  async start(): Promise<void> {
    this.cursor = await this.broadcast.latestId(FEED_TOPIC);
    this.stopListening = this.broadcast.listen(FEED_TOPIC, () => this.wake());
    this.schedulePoll();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopListening?.();
    this.clock.clearTimeout(this.poll);
    await this.writes.flushWithin(2000);
    await this.reading;
  }

  publish(event: FeedEvent): void {
    this.writes.push({ key: callIdOf(event) ?? null, data: JSON.stringify(event) });
  }

  subscribe(listener: (entry: FeedEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get head(): string {
    return String(this.cursor);
  }

  override isAfter(id: string, lastEventId: string): boolean {
    return /^\d{1,15}$/.test(lastEventId) ? Number(id) > Number(lastEventId) : true;
  }

  async since(lastEventId: string): Promise<FeedEntry[] | typeof RESET> {
    if (!/^\d{1,15}$/.test(lastEventId)) return RESET;
    const after = Number(lastEventId);
    // Ahead of this replica (it came from one that had read further): what follows arrives live, and the stream
    // skips what the browser already has.
    if (after >= this.cursor) return [];
    const oldestInRing = this.ring.length > 0 ? Number(this.ring[0].id) : Infinity;
    if (after >= oldestInRing - 1) return this.ring.filter((entry) => Number(entry.id) > after);
    const oldest = await this.broadcast.oldestId(FEED_TOPIC);
    if (oldest === undefined || after < oldest - 1 || this.cursor - after > this.capacity) return RESET;
    const entries: FeedEntry[] = [];
    let from = after;
    while (from < this.cursor) {
      const rows = await this.broadcast.after(FEED_TOPIC, from, READ_BATCH);
      if (rows.length === 0) break;
      for (const row of rows) if (row.id <= this.cursor) entries.push(entryOf(row));
      from = rows[rows.length - 1].id;
    }
    return entries;
  }

  /** Read now, or again right after the read under way. */
  private wake(): void {
    if (this.stopped) return;
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = this.read().finally(() => {
      this.reading = undefined;
      if (this.readAgain) {
        this.readAgain = false;
        this.wake();
      }
    });
  }

  private async read(): Promise<void> {
    try {
      for (;;) {
        const rows = await this.broadcast.after(FEED_TOPIC, this.cursor, READ_BATCH);
        let delivered = 0;
        for (const row of rows) {
          if (row.id !== this.cursor + 1) {
            // A hole: an earlier id not committed yet. Wait for it a little, then take it for a rollback.
            const now = this.clock.now();
            this.gapSince ??= now;
            if (now - this.gapSince < GAP_GRACE_MS) {
              this.clock.setTimeout(() => this.wake(), 50);
              return;
            }
          }
          this.gapSince = undefined;
          this.cursor = row.id;
          this.deliver(entryOf(row));
          delivered++;
        }
        if (rows.length < READ_BATCH || delivered === 0) break;
      }
      await this.purgeNowAndThen();
    } catch (error) {
      this.logger.warn(`reading the console feed failed, retrying: ${errorMessage(error)}`);
      this.clock.setTimeout(() => this.wake(), 500);
    }
  }

  private deliver(entry: FeedEntry): void {
    this.ring.push(entry);
    if (this.ring.length > this.capacity) this.ring.splice(0, this.ring.length - this.capacity);
    for (const listener of this.listeners) listener(entry);
  }

  private schedulePoll(): void {
    this.poll = this.clock.setTimeout(() => {
      this.wake();
      this.schedulePoll();
    }, POLL_MS);
  }

  private async purgeNowAndThen(): Promise<void> {
    const now = this.clock.now();
    if (now - this.lastPurge < PURGE_EVERY_MS) return;
    this.lastPurge = now;
    await this.broadcast.purgeBefore(new Date(now - FEED_RETENTION_MS));
  }
}

function entryOf(row: { id: number; key: string | null; data: string }): FeedEntry {
  return { id: String(row.id), data: row.data, ...(row.key ? { callId: row.key } : {}) };
}

/** Stops following the shared feed (and stores what this replica still has to append) before storage closes. */
@Injectable()
export class FeedShutdown implements OnApplicationShutdown {
  constructor(private readonly feed: FeedLog) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.feed instanceof SharedFeedLog) await this.feed.stop();
  }
}
