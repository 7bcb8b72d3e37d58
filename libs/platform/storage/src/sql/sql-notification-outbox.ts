import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable } from '@nestjs/common';
import { sql, type Selectable } from 'kysely';
import { Clock, systemClock } from '#resilience';
import {
  NotificationOutbox,
  OUTBOX_LEASE_MS,
  type NewOutboxMessage,
  type OutboxMessage,
  type OutboxStatus,
} from '../notification-outbox.js';
import { StorageHealth } from '../storage-health.js';
import { KYSELY, STORAGE_DIALECT } from '../storage.tokens.js';
import type { NotificationOutboxTable, StorageDb, StorageDialect } from './schema.js';

const MAX_ERROR_LENGTH = 500;
/** Rows per INSERT (11 columns each), far below both dialects' bound-parameter limits. */
const INSERT_BATCH = 200;

/** The PostgreSQL advisory lock adopters take in turn (an arbitrary constant, unlikely to clash). */
const ADOPTION_LOCK = 7_305_112_019_331;

const keyOf = (destination: string, dedupeKey: string) => `${destination}\u0000${dedupeKey}`;

@Injectable()
export class SqlNotificationOutbox extends NotificationOutbox {
  /** The pod's name in Kubernetes (which says where a row went), and a suffix for each start of the process. */
  readonly owner = `${hostname().slice(0, 64)}/${randomBytes(4).toString('hex')}`;
  readonly shared: boolean;
  /**
   * SQLite in a data directory serves one process: whatever is pending when it starts was left by a process that is
   * gone, whatever its lease says, so the first `adopt()` takes it all (a restart resumes at once).
   */
  private exclusiveStart: boolean;
  /** When this process's lease on its rows runs out unless renewed (epoch ms; 0: none yet). */
  private leaseUntil = 0;

  constructor(
    @Inject(KYSELY) private readonly db: StorageDb,
    private readonly health: StorageHealth,
    @Inject(STORAGE_DIALECT) dialect: StorageDialect,
    /** Leases are deadlines on this clock (epoch ms: every replica's clock must roughly agree). */
    private readonly clock: Clock = systemClock,
  ) {
    super();
    this.shared = dialect === 'postgres';
    this.exclusiveStart = !this.shared;
  }

  async enqueue<P>(messages: NewOutboxMessage<P>[], leaseMs = OUTBOX_LEASE_MS): Promise<OutboxMessage<P>[]> {
    if (messages.length === 0) return [];
    return this.health.track(() =>
      this.db.transaction().execute(async (trx) => {
        const now = this.clock.now();
        const stored = new Map<string, OutboxMessage<P>>();
        // A few statements per batch rather than two per message: under load this runs for every transcript line,
        // on the event loop (SQLite is synchronous). Rows of one INSERT get ascending ids in the order given.
        for (let i = 0; i < messages.length; i += INSERT_BATCH) {
          const rows = await trx
            .insertInto('notification_outbox')
            .values(
              messages.slice(i, i + INSERT_BATCH).map((message) => ({
                destination: message.destination,
                call_id: message.callId,
                dedupe_key: message.dedupeKey,
                payload: JSON.stringify(message.payload),
                status: 'pending',
                created_at: now,
                next_attempt_at: now,
                last_error: null,
                delivered_at: null,
                owner: this.owner,
                lease_until: this.deadline(now, leaseMs),
              })),
            )
            .onConflict((oc) => oc.columns(['destination', 'dedupe_key']).doNothing())
            .returningAll()
            .execute();
          for (const row of rows) stored.set(keyOf(row.destination, row.dedupe_key), toMessage<P>(row));
        }
        // Keys stored before (a replayed event, a restart): they keep their first message.
        const known = new Map<string, string[]>();
        for (const message of messages) {
          if (stored.has(keyOf(message.destination, message.dedupeKey))) continue;
          const keys = known.get(message.destination);
          if (keys) keys.push(message.dedupeKey);
          else known.set(message.destination, [message.dedupeKey]);
        }
        for (const [destination, keys] of known) {
          for (let i = 0; i < keys.length; i += INSERT_BATCH) {
            const rows = await trx
              .selectFrom('notification_outbox')
              .selectAll()
              .where('destination', '=', destination)
              .where('dedupe_key', 'in', keys.slice(i, i + INSERT_BATCH))
              .execute();
            for (const row of rows) stored.set(keyOf(row.destination, row.dedupe_key), toMessage<P>(row));
          }
        }
        return messages.map((message) => {
          const row = stored.get(keyOf(message.destination, message.dedupeKey));
          if (!row) throw new Error('an outbox message was neither stored nor found');
          return row;
        });
      }),
    );
  }

  async pending<P>(destination?: string, limit = 1000): Promise<OutboxMessage<P>[]> {
    let query = this.db.selectFrom('notification_outbox').selectAll().where('status', '=', 'pending');
    if (destination !== undefined) query = query.where('destination', '=', destination);
    const rows = await query.orderBy('id', 'asc').limit(limit).execute();
    return rows.map((row) => toMessage<P>(row));
  }

  async adopt<P>(leaseMs = OUTBOX_LEASE_MS, destinations?: readonly string[]): Promise<OutboxMessage<P>[]> {
    if (destinations?.length === 0) return [];
    const everything = this.exclusiveStart;
    const rows = await this.health.track(() =>
      this.db.transaction().execute(async (trx) => {
        // One adopter at a time across replicas: what a dead process left (its rows share one deadline) goes to one
        // replica, whole, so two replicas never send a call's lines side by side.
        if (this.shared) await sql`select pg_advisory_xact_lock(${ADOPTION_LOCK}::bigint)`.execute(trx);
        const now = this.clock.now();
        let query = trx
          .updateTable('notification_outbox')
          .set({ owner: this.owner, lease_until: this.deadline(now, leaseMs) })
          .where('status', '=', 'pending');
        // An owner's rows are taken only once all of them have run out (rows stored while a renewal was under way
        // may keep the previous deadline a little longer; rows of the previous version, which has no owner, run out
        // one by one): never part of a dead process's rows, to be sent beside the rest by another replica.
        if (!everything) {
          query = query.where(
            sql<boolean>`coalesce(owner, '') in (select coalesce(owner, '') from notification_outbox where status = 'pending' group by coalesce(owner, '') having max(lease_until) < ${now})`,
          );
        }
        if (destinations) query = query.where('destination', 'in', destinations);
        // A live call's messages are its owner's to take (adoptCall), in order with what it says next.
        if (this.shared) query = query.where(sql<boolean>`not exists (select 1 from call_leases where call_leases.call_id = notification_outbox.call_id)`);
        return query.returningAll().execute();
      }),
    );
    this.exclusiveStart = false;
    return rows.map((row) => toMessage<P>(row)).sort((a, b) => a.id - b.id);
  }

  async adoptCall<P>(callId: string, leaseMs = OUTBOX_LEASE_MS): Promise<OutboxMessage<P>[]> {
    const rows = await this.health.track(() =>
      this.db.transaction().execute(async (trx) => {
        if (this.shared) await sql`select pg_advisory_xact_lock(${ADOPTION_LOCK}::bigint)`.execute(trx);
        return trx
          .updateTable('notification_outbox')
          .set({ owner: this.owner, lease_until: this.deadline(this.clock.now(), leaseMs) })
          .where('status', '=', 'pending')
          .where('call_id', '=', callId)
          .where((eb) => eb.or([eb('owner', 'is', null), eb('owner', '<>', this.owner)]))
          .returningAll()
          .execute();
      }),
    );
    return rows.map((row) => toMessage<P>(row)).sort((a, b) => a.id - b.id);
  }

  async renewLeases(leaseMs = OUTBOX_LEASE_MS): Promise<void> {
    const until = this.clock.now() + leaseMs;
    await this.health.track(() =>
      this.db
        .updateTable('notification_outbox')
        .set({ lease_until: until })
        .where('status', '=', 'pending')
        .where('owner', '=', this.owner)
        .execute(),
    );
    this.leaseUntil = until;
  }

  async releaseLeases(): Promise<void> {
    await this.health.track(() =>
      this.db
        .updateTable('notification_outbox')
        .set({ lease_until: 0 })
        .where('status', '=', 'pending')
        .where('owner', '=', this.owner)
        .execute(),
    );
    this.leaseUntil = 0;
  }

  /**
   * The deadline new and adopted rows get: this process's current one while it lasts, so that all its rows run out
   * together (when it dies, they are adopted together, by one replica); a new one when it has run out.
   */
  private deadline(now: number, leaseMs: number): number {
    if (this.leaseUntil <= now) this.leaseUntil = now + leaseMs;
    return this.leaseUntil;
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
        .set({ attempts: sql`attempts + 1`, last_error: error.slice(0, MAX_ERROR_LENGTH), next_attempt_at: this.clock.now() })
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
    owner: row.owner,
  };
}
