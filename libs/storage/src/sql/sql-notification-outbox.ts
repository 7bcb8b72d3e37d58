import { Inject, Injectable } from '@nestjs/common';
import { sql, type Selectable } from 'kysely';
import { NotificationOutbox, type NewOutboxMessage, type OutboxMessage, type OutboxStatus } from '../notification-outbox.js';
import { StorageHealth } from '../storage-health.js';
import { KYSELY } from '../storage.tokens.js';
import type { NotificationOutboxTable, StorageDb } from './schema.js';

const MAX_ERROR_LENGTH = 500;

@Injectable()
export class SqlNotificationOutbox extends NotificationOutbox {
  constructor(
    @Inject(KYSELY) private readonly db: StorageDb,
    private readonly health: StorageHealth,
  ) {
    super();
  }

  async enqueue<P>(messages: NewOutboxMessage<P>[]): Promise<OutboxMessage<P>[]> {
    if (messages.length === 0) return [];
    return this.health.track(() =>
      this.db.transaction().execute(async (trx) => {
        const now = Date.now();
        const stored: OutboxMessage<P>[] = [];
        // One insert per message, in order, so ids follow the enqueue order.
        for (const message of messages) {
          await trx
            .insertInto('notification_outbox')
            .values({
              destination: message.destination,
              call_id: message.callId,
              dedupe_key: message.dedupeKey,
              payload: JSON.stringify(message.payload),
              status: 'pending',
              created_at: now,
              next_attempt_at: now,
              last_error: null,
              delivered_at: null,
            })
            .onConflict((oc) => oc.columns(['destination', 'dedupe_key']).doNothing())
            .execute();
          const row = await trx
            .selectFrom('notification_outbox')
            .selectAll()
            .where('destination', '=', message.destination)
            .where('dedupe_key', '=', message.dedupeKey)
            .executeTakeFirstOrThrow();
          stored.push(toMessage<P>(row));
        }
        return stored;
      }),
    );
  }

  async pending<P>(destination?: string, limit = 1000): Promise<OutboxMessage<P>[]> {
    let query = this.db.selectFrom('notification_outbox').selectAll().where('status', '=', 'pending');
    if (destination !== undefined) query = query.where('destination', '=', destination);
    const rows = await query.orderBy('id', 'asc').limit(limit).execute();
    return rows.map((row) => toMessage<P>(row));
  }

  async markDelivered(ids: number[], at: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.health.track(() =>
      this.db
        .updateTable('notification_outbox')
        .set({ status: 'delivered', delivered_at: at.getTime(), attempts: sql`attempts + 1` })
        .where('id', 'in', ids)
        .execute(),
    );
  }

  async markFailed(ids: number[], reason: string): Promise<void> {
    if (ids.length === 0) return;
    await this.health.track(() =>
      this.db
        .updateTable('notification_outbox')
        .set({ status: 'failed', last_error: reason.slice(0, MAX_ERROR_LENGTH) })
        .where('id', 'in', ids)
        .execute(),
    );
  }

  async recordAttempt(ids: number[], error: string): Promise<void> {
    if (ids.length === 0) return;
    await this.health.track(() =>
      this.db
        .updateTable('notification_outbox')
        .set({ attempts: sql`attempts + 1`, last_error: error.slice(0, MAX_ERROR_LENGTH), next_attempt_at: Date.now() })
        .where('id', 'in', ids)
        .execute(),
    );
  }

}

function toMessage<P>(row: Selectable<NotificationOutboxTable>): OutboxMessage<P> {
  return {
    id: Number(row.id),
    destination: row.destination,
    callId: row.call_id,
    dedupeKey: row.dedupe_key,
    payload: JSON.parse(row.payload) as P,
    status: row.status as OutboxStatus,
    attempts: Number(row.attempts),
    lastError: row.last_error,
    createdAt: new Date(Number(row.created_at)),
    deliveredAt: row.delivered_at === null ? null : new Date(Number(row.delivered_at)),
  };
}
