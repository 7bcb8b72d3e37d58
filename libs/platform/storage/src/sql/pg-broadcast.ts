import { Logger } from '@nestjs/common';
import { sql } from 'kysely';
import pg from 'pg';
import { SharedBroadcast, type BroadcastEntry } from '../broadcast.js';
import type { StorageDb } from './schema.js';
import { Clock, backoffDelay, errorMessage, type Timer } from '#resilience';

/** The one NOTIFY channel; its payload is the topic. */
const CHANNEL = 'bridge_broadcast';
const RECONNECT = { initialDelayMs: 500, maxDelayMs: 10_000 } as const;

/**
 * `SharedBroadcast` on PostgreSQL: rows in `broadcasts`, and `pg_notify` in the inserting transaction (delivered at
 * commit, to every listening replica). Listening holds one dedicated connection (LISTEN cannot share the pool); when
 * it drops it is reopened with backoff and every listener is woken, since notifications sent meanwhile are lost.
 */
export class PostgresBroadcast extends SharedBroadcast {
  private readonly logger = new Logger('Broadcast');
  private readonly listeners = new Map<string, Set<() => void>>();
  private client?: pg.Client;
  private reconnectTimer?: Timer;
  private attempts = 0;
  private closed = false;

  constructor(
    private readonly db: StorageDb,
    private readonly connection: pg.ClientConfig,
    private readonly clock: Clock,
  ) {
    super();
  }

  get available(): boolean {
    return true;
  }

  async append(topic: string, entries: ReadonlyArray<{ key: string | null; data: string }>): Promise<number[]> {
    if (entries.length === 0) return [];
    const at = this.clock.now();
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .insertInto('broadcasts')
        .values(entries.map((entry) => ({ topic, key: entry.key, data: entry.data, at })))
        .returning('id')
        .execute();
      await sql`select pg_notify(${CHANNEL}, ${topic})`.execute(trx);
      return rows.map((row) => Number(row.id));
    });
  }

  async after(topic: string, afterId: number, limit: number): Promise<BroadcastEntry[]> {
    const rows = await this.db
      .selectFrom('broadcasts')
      .select(['id', 'key', 'data', 'at'])
      .where('topic', '=', topic)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ id: Number(row.id), key: row.key, data: row.data, at: new Date(Number(row.at)) }));
  }

  async latestId(topic: string): Promise<number> {
    const row = await this.db.selectFrom('broadcasts').select((eb) => eb.fn.max('id').as('id')).where('topic', '=', topic).executeTakeFirst();
    return row?.id == null ? 0 : Number(row.id);
  }

  async oldestId(topic: string): Promise<number | undefined> {
    const row = await this.db.selectFrom('broadcasts').select((eb) => eb.fn.min('id').as('id')).where('topic', '=', topic).executeTakeFirst();
    return row?.id == null ? undefined : Number(row.id);
  }

  listen(topic: string, wake: () => void): () => void {
    let set = this.listeners.get(topic);
    if (!set) this.listeners.set(topic, (set = new Set()));
    set.add(wake);
    if (!this.client && !this.reconnectTimer) void this.connect();
    return () => {
      set.delete(wake);
    };
  }

  async purgeBefore(cutoff: Date): Promise<number> {
    const result = await this.db.deleteFrom('broadcasts').where('at', '<', cutoff.getTime()).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clock.clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    this.reconnectTimer = undefined;
    if (this.closed) return;
    const client = new pg.Client(this.connection);
    client.on('notification', (message) => {
      if (message.channel !== CHANNEL || !message.payload) return;
      for (const wake of this.listeners.get(message.payload) ?? []) wake();
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANNEL}`);
    } catch (error) {
      this.lost(client, error);
      return;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    if (this.attempts > 0) this.logger.log('listening for broadcasts again');
    this.attempts = 0;
    // Whatever was appended while nobody listened.
    for (const set of this.listeners.values()) for (const wake of set) wake();
  }

  private lost(client: pg.Client, error: unknown): void {
    if (this.closed || (this.client !== undefined && this.client !== client) || this.reconnectTimer) return;
    this.client = undefined;
    client.removeAllListeners('end');
    client.on('error', () => undefined);
    void client.end().catch(() => undefined);
    const delay = backoffDelay(++this.attempts, RECONNECT);
    if (this.attempts === 1) this.logger.warn(`broadcast listener lost (${errorMessage(error)}); reconnecting`);
    this.reconnectTimer = this.clock.setTimeout(() => void this.connect(), delay);
  }
}

/** SQLite: one process, nothing to share. */
export class LocalBroadcast extends SharedBroadcast {
  get available(): boolean {
    return false;
  }
  append(): Promise<number[]> {
    return Promise.reject(new Error('no shared broadcast without PostgreSQL'));
  }
  after(): Promise<BroadcastEntry[]> {
    return Promise.resolve([]);
  }
  latestId(): Promise<number> {
    return Promise.resolve(0);
  }
  oldestId(): Promise<number | undefined> {
    return Promise.resolve(undefined);
  }
  listen(): () => void {
    return () => undefined;
  }
  purgeBefore(): Promise<number> {
    return Promise.resolve(0);
  }
}
