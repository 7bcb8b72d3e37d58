import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CompiledOnce } from './compiled-once.js';
import { migrateToLatest } from './migrations.js';
import type { StorageDb } from './schema.js';
import { TEST_DIALECTS, createTestDatabase, type TestDatabase } from '#testing';

describe.each(TEST_DIALECTS)('CompiledOnce (%s)', (dialect) => {
  let database: TestDatabase;
  let db: StorageDb;
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    db = database.db;
    await migrateToLatest(db, dialect);
  });
  afterAll(() => database.drop());

  it('builds once per database, and runs with each call\'s values in their places, a value used twice included', async () => {
    let builds = 0;
    const upsert = new CompiledOnce((db: StorageDb, key: string, expiresAt: number, now: number) => {
      builds++;
      return db
        .insertInto('idempotency_claims')
        .values({ key, expires_at: expiresAt })
        .onConflict((oc) => oc.column('key').doUpdateSet({ expires_at: expiresAt }).where('idempotency_claims.expires_at', '<=', now));
    });
    expect(Number((await upsert.run(db, 'k1', 100, 50)).numAffectedRows)).toBe(1);
    expect(Number((await upsert.run(db, 'k2', 200, 50)).numAffectedRows)).toBe(1);
    expect(Number((await upsert.run(db, 'k1', 300, 60)).numAffectedRows)).toBe(0); // k1 expires at 100 > 60: kept
    expect(Number((await upsert.run(db, 'k1', 400, 150)).numAffectedRows)).toBe(1); // expired: taken over, at 400
    expect(builds).toBe(1);
    const rows = await db.selectFrom('idempotency_claims').select(['key', 'expires_at']).where('key', 'in', ['k1', 'k2']).orderBy('key').execute();
    expect(rows.map((row) => [row.key, Number(row.expires_at)])).toEqual([['k1', 400], ['k2', 200]]);
  });
});
