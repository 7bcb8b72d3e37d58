import { Inject, Injectable } from '@nestjs/common';
import { sql } from 'kysely';
import { IdempotencyStore } from '../idempotency.store.js';
import { KYSELY } from '../storage.tokens.js';
import type { StorageDb } from './schema.js';

/**
 * Claims shared by every replica using the same database. A claim is one statement, insert-or-take-over-if-expired,
 * so the database decides between concurrent claimants: on PostgreSQL the loser of a race waits for the winner's
 * row and then finds it unexpired; SQLite runs one writer at a time.
 */
@Injectable()
export class SqlIdempotencyStore extends IdempotencyStore {
  constructor(@Inject(KYSELY) private readonly db: StorageDb) {
    super();
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const expiresAt = now + ttlMs;
    const result = await this.db
      .insertInto('idempotency_claims')
      .values({ key, expires_at: expiresAt })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet({ expires_at: expiresAt }).where('idempotency_claims.expires_at', '<=', now),
      )
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  async release(key: string): Promise<void> {
    await this.db.deleteFrom('idempotency_claims').where('key', '=', key).execute();
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  /** Deletes claims that expired before `now` (housekeeping: an expired claim means nothing). Returns the count. */
  async deleteExpired(now = Date.now()): Promise<number> {
    const result = await this.db.deleteFrom('idempotency_claims').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
