import type { FeedEntry, FeedEvent } from './feed-event.js';

/** What `since` answers when the asked-for id cannot be resumed from (too old, or from another feed). */
export const RESET = 'reset' as const;

/**
 * The live feed's log: every replica's events, in one order, each with an id a browser can resume after. In one
 * process (SQLite) it is memory; with PostgreSQL it is shared through the database (LISTEN/NOTIFY), so a console on
 * any replica sees every replica's calls and may reconnect to another replica.
 */
export abstract class FeedLog {
  /** Adds an event of this replica's (delivered to subscribers, here and on the other replicas, soon after). */
  abstract publish(event: FeedEvent): void;
  /** Every entry from now on, in order, until the returned function is called. */
  abstract subscribe(listener: (entry: FeedEntry) => void): () => void;
  /** The entries after `lastEventId` (all that are kept, when undefined is passed: none), or RESET. */
  abstract since(lastEventId: string): Promise<FeedEntry[] | typeof RESET>;
  /**
   * Whether entry `id` comes after `lastEventId` in this feed (a stream never sends a browser an entry it already
   * has). An id this feed cannot place counts as before every entry.
   */
  isAfter(_id: string, _lastEventId: string): boolean {
    return true;
  }
  /** The id of the latest entry (what a new stream's `hello` carries), '' when there is none yet. */
  abstract get head(): string;
}
