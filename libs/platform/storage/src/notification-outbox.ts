/** A notification waiting for (or done with) delivery to one destination. */
export interface OutboxMessage<P = unknown> {
  /** Ascending in the order messages were enqueued: delivery order within a destination. */
  id: number;
  /** An opaque destination id (never a webhook URL: those are secrets). */
  destination: string;
  callId: string | null;
  /** Unique per destination: enqueueing the same key twice stores one message. */
  dedupeKey: string;
  payload: P;
  status: OutboxStatus;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
  /** The process that holds it (`NotificationOutbox.owner`): the one that delivers it while it is pending. */
  owner: string | null;
}

export type OutboxStatus = 'pending' | 'delivered' | 'failed';

export interface NewOutboxMessage<P = unknown> {
  destination: string;
  callId: string | null;
  dedupeKey: string;
  payload: P;
}

/** How long a process's hold on the pending messages it stored or took over lasts unless it renews it. */
export const OUTBOX_LEASE_MS = 30_000;

/**
 * The durable outbox: a notification is stored before it is sent and marked after, so a crash or restart never
 * loses one (it may be sent twice after an ambiguous failure, never zero times).
 *
 * Several processes may share it (replicas on one PostgreSQL). Each pending message is leased to the process that
 * delivers it: the one that stored it, until the lease runs out without being renewed (that process died) or is
 * released (it stopped with messages undelivered); then another process adopts it. So a replica that starts never
 * sends again what a live replica is sending, and what a dead one left is sent by whoever is still running.
 */
export abstract class NotificationOutbox {
  /** Who this process is in the outbox (a lease holder): the host name and a random suffix. */
  abstract readonly owner: string;
  /**
   * Whether other processes may use this outbox too (PostgreSQL), so that leases must be renewed and what others
   * leave adopted. False for a store only one process can use (SQLite in a data directory).
   */
  abstract readonly shared: boolean;
  /**
   * Stores messages in the given order, leased to this process (all its rows share one deadline, at least `leaseMs`
   * away when there is none yet); a message whose (destination, dedupeKey) exists is not stored again (its stored
   * row is returned, whoever holds it: only its owner delivers it).
   */
  abstract enqueue<P>(messages: NewOutboxMessage<P>[], leaseMs?: number): Promise<OutboxMessage<P>[]>;
  /**
   * Leases to this process, for `leaseMs`, every pending message nobody holds (never leased, lease run out, released)
   * and returns them oldest first. One process adopts at a time, and an owner's messages only once all of them have
   * run out, so each message goes to one process, and what a dead process left goes to one process whole.
   * `destinations`: only messages for these (the ones this process can deliver). A store only one process can use
   * (SQLite in a data directory) hands over every pending message the first time it is asked: whoever held one is
   * gone.
   */
  abstract adopt<P>(leaseMs?: number, destinations?: readonly string[]): Promise<OutboxMessage<P>[]>;
  /**
   * Leases to this process every pending message of one call, whoever holds it: this process has just taken the
   * live call over from another replica (drained or lost), and sends the call's messages in order from here on.
   * `adopt()` leaves the messages of a call with a lease in `call_leases` alone, for the call's owner to take.
   */
  abstract adoptCall<P>(callId: string, leaseMs?: number): Promise<OutboxMessage<P>[]>;
  /** Extends this process's lease on all its pending messages to `leaseMs` from now. */
  abstract renewLeases(leaseMs?: number): Promise<void>;
  /** Lets go of this process's pending messages (at shutdown), so that another process adopts them at once. */
  abstract releaseLeases(): Promise<void>;
  /** Pending messages, oldest first (by id), optionally of one destination. */
  abstract pending<P>(destination?: string, limit?: number): Promise<OutboxMessage<P>[]>;
  abstract markDelivered(ids: number[], at: Date): Promise<void>;
  /** Gives up on messages (poison, dead destination): they stay stored with the reason. */
  abstract markFailed(ids: number[], reason: string): Promise<void>;
  /** Counts an unsuccessful attempt (the message stays pending). */
  abstract recordAttempt(ids: number[], error: string): Promise<void>;
}
