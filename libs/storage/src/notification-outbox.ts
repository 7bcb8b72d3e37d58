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
}

export type OutboxStatus = 'pending' | 'delivered' | 'failed';

export interface NewOutboxMessage<P = unknown> {
  destination: string;
  callId: string | null;
  dedupeKey: string;
  payload: P;
}

/**
 * The durable outbox: a notification is stored before it is sent and marked after, so a crash or restart never
 * loses one (it may be sent twice after an ambiguous failure, never zero times).
 */
export abstract class NotificationOutbox {
  /** Stores messages in the given order; a message whose (destination, dedupeKey) exists is not stored again. */
  abstract enqueue<P>(messages: NewOutboxMessage<P>[]): Promise<OutboxMessage<P>[]>;
  /** Pending messages, oldest first (by id), optionally of one destination. */
  abstract pending<P>(destination?: string, limit?: number): Promise<OutboxMessage<P>[]>;
  abstract markDelivered(ids: number[], at: Date): Promise<void>;
  /** Gives up on messages (poison, dead destination): they stay stored with the reason. */
  abstract markFailed(ids: number[], reason: string): Promise<void>;
  /** Counts an unsuccessful attempt (the message stays pending). */
  abstract recordAttempt(ids: number[], error: string): Promise<void>;
}
