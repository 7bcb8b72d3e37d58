/** One entry of a broadcast topic, in the order every replica reads it. */
export interface BroadcastEntry {
  /** Increasing within the log (ids of entries not yet committed may still appear below it: see `SharedBroadcast`). */
  id: number;
  /** What the entry is about (a call id), for readers that want one subject only. */
  key: string | null;
  /** The entry, serialized by its writer. */
  data: string;
  at: Date;
}

/**
 * An append-only log that every replica reads, for live fan-out across replicas without another service: the
 * console's feed (and, later, commands to a call's owner). With PostgreSQL it is a table and NOTIFY wakes the
 * readers; with SQLite there is one process and nothing to share, so `available` is false and callers stay in memory.
 *
 * Ids come from a sequence: a transaction that began first may commit after a later one, so a reader that has seen
 * id n+2 may later see n+1. Readers hold back past a gap for a short while (a rolled-back insert leaves one for ever).
 */
export abstract class SharedBroadcast {
  /** Whether other processes share this log (PostgreSQL). */
  abstract get available(): boolean;
  /** Appends the entries, in order, and wakes every replica's listeners of `topic`. Returns their ids. */
  abstract append(topic: string, entries: ReadonlyArray<{ key: string | null; data: string }>): Promise<number[]>;
  /** Entries of `topic` with id > `afterId`, oldest first, at most `limit`. */
  abstract after(topic: string, afterId: number, limit: number): Promise<BroadcastEntry[]>;
  /** The newest id of `topic` (0 when empty). */
  abstract latestId(topic: string): Promise<number>;
  /** The oldest id of `topic` still kept (undefined when empty). */
  abstract oldestId(topic: string): Promise<number | undefined>;
  /**
   * Calls `wake` whenever any replica appended to `topic`, and after the listening connection was lost and came back
   * (something may have been missed). Returns the function that stops listening.
   */
  abstract listen(topic: string, wake: () => void): () => void;
  /** Deletes entries older than `cutoff` (all topics); returns how many. */
  abstract purgeBefore(cutoff: Date): Promise<number>;
}
