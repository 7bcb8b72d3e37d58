import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { sql } from 'kysely';
import { Clock, systemClock } from '#resilience';
import { IdempotencyStore } from '../idempotency.store.js';
import { RecentClaims } from '../recent-claims.js';
import { CompiledOnce } from './compiled-once.js';
import { StorageHealth, errorMessage } from '../storage-health.js';
import { KYSELY } from '../storage.tokens.js';
import type { StorageDb } from './schema.js';

/**
 * Claims shared by every replica using the same database. A claim is one statement, insert-or-take-over-if-expired,
 * so the database decides between concurrent claimants: on PostgreSQL the loser of a race waits for the winner's
 * row and then finds it unexpired; SQLite runs one writer at a time.
 *
 * Claims are also kept in this process for a few minutes: a copy arriving here is refused without a round trip,
 * and while the database is unreachable the local claims still keep this replica from answering a call twice —
 * answering calls matters more than sharing the claim (the outage is logged and reported by readiness).
 */
/** How long this process surely remembers its own claims (OpenAI's retries of one delivery come within minutes). */
const LOCAL_CLAIM_TTL_MS = 5 * 60 * 1000;

/** Insert the claim, or take it over when it has expired: (key, expiresAt, now). */
const CLAIM = new CompiledOnce((db: StorageDb, key: string, expiresAt: number, now: number) =>
  db
    .insertInto('idempotency_claims')
    .values({ key, expires_at: expiresAt })
    .onConflict((oc) => oc.column('key').doUpdateSet({ expires_at: expiresAt }).where('idempotency_claims.expires_at', '<=', now)),
);

@Injectable()
export class SqlIdempotencyStore extends IdempotencyStore implements OnModuleDestroy {
  private readonly logger = new Logger(SqlIdempotencyStore.name);
  private readonly local: RecentClaims;

  constructor(
    @Inject(KYSELY) private readonly db: StorageDb,
    private readonly health: StorageHealth,
    private readonly clock: Clock = systemClock,
  ) {
    super();
    this.local = new RecentClaims(LOCAL_CLAIM_TTL_MS, clock);
  }

  async claim(key: string, ttlMs: number): Promise<boolean> {
    if (!this.local.claim(key, ttlMs)) return false;
    try {
      const claimed = await this.claimShared(key, ttlMs);
      if (!claimed) this.local.release(key);
      return claimed;
    } catch (error) {
      this.health.recordFailure(error);
      this.logger.error(`shared claim failed, relying on this replica's own claims: ${errorMessage(error)}`);
      return true;
    }
  }

  private async claimShared(key: string, ttlMs: number): Promise<boolean> {
    const now = this.clock.now();
    const result = await CLAIM.run(this.db, key, now + ttlMs, now);
    return Number(result.numAffectedRows ?? 0n) === 1;
  }

  async release(key: string): Promise<void> {
    this.local.release(key);
    try {
      await this.db.deleteFrom('idempotency_claims').where('key', '=', key).execute();
    } catch (error) {
      this.health.recordFailure(error);
      this.logger.error(`releasing a shared claim failed: ${errorMessage(error)}`);
    }
  }

  onModuleDestroy(): void {
    this.local.close();
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  /** Deletes claims that expired before `now` (housekeeping: an expired claim means nothing). Returns the count. */
  async deleteExpired(now = this.clock.now()): Promise<number> {
    const result = await this.db.deleteFrom('idempotency_claims').where('expires_at', '<=', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
