import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { migrateToLatest } from './sql/migrations.js';
import { PostgresCallLeases } from './sql/pg-call-leases.js';
import type { StorageDb } from './sql/schema.js';
import { TEST_DATABASE_URL, createTestDatabase, type TestDatabase } from '#testing';

// The leases live on the database's clock, so a lease "runs out" here by moving its expiry into the past.
const describePg = TEST_DATABASE_URL ? describe : describe.skip;

describePg('PostgresCallLeases', () => {
  let database: TestDatabase;
  let db: StorageDb;
  let leases: PostgresCallLeases;
  const expire = (callId: string) => sql`update call_leases set expires_at = 1 where call_id = ${callId}`.execute(db);

  beforeAll(async () => {
    database = await createTestDatabase('postgres');
    db = database.db;
    await migrateToLatest(db, 'postgres');
    leases = new PostgresCallLeases(db);
  });
  afterAll(async () => {
    await database?.drop();
  });
  beforeEach(async () => {
    await db.deleteFrom('call_leases').execute();
  });

  it('keeps a renewed lease with its owner: nobody can take it', async () => {
    await leases.acquire('rtc_a', 'replica-1', 5000, '{}');
    expect(await leases.renew('replica-1', ['rtc_a'], 5000)).toEqual([]);
    expect(await leases.takeExpired('replica-2', 5000, 10)).toEqual([]);
  });

  it('gives a lease that ran out to one replica, once, with a higher fence; its old owner then learns it lost it', async () => {
    await leases.acquire('rtc_a', 'replica-1', 5000, '{}');
    await leases.acquire('rtc_b', 'replica-1', 5000, '{}');
    await expire('rtc_a');
    const [first, second] = await Promise.all([leases.takeExpired('replica-2', 5000, 10), leases.takeExpired('replica-3', 5000, 10)]);
    expect([...first!, ...second!]).toEqual([{ callId: 'rtc_a', fence: 2, cause: 'expired', call: '{}' }]);
    expect(await leases.renew('replica-1', ['rtc_a', 'rtc_b'], 5000)).toEqual(['rtc_a']);
  });

  it('lets an owner that was only slow renew a lease that ran out but that nobody took', async () => {
    await leases.acquire('rtc_a', 'replica-1', 5000, '{}');
    await expire('rtc_a');
    expect(await leases.renew('replica-1', ['rtc_a'], 5000)).toEqual([]);
    expect(await leases.takeExpired('replica-2', 5000, 10)).toEqual([]);
  });

  it('hands a released call over at once, as a handover, and the releasing owner can no longer renew it', async () => {
    await leases.acquire('rtc_a', 'replica-1', 60_000, '{}');
    await leases.release('replica-1', ['rtc_a']);
    expect(await leases.renew('replica-1', ['rtc_a'], 5000)).toEqual(['rtc_a']);
    expect(await leases.takeExpired('replica-2', 5000, 10)).toEqual([{ callId: 'rtc_a', fence: 2, cause: 'handover', call: '{}' }]);
    expect(await leases.renew('replica-2', ['rtc_a'], 5000)).toEqual([]);
  });

  it('takes at most `limit` calls a time, and none once a call ended', async () => {
    for (const id of ['rtc_1', 'rtc_2', 'rtc_3']) {
      await leases.acquire(id, 'replica-1', 5000, '{}');
      await expire(id);
    }
    await leases.remove('rtc_3');
    expect(await leases.takeExpired('replica-2', 5000, 1)).toHaveLength(1);
    expect(await leases.takeExpired('replica-2', 5000, 10)).toHaveLength(1);
    expect(await leases.takeExpired('replica-2', 5000, 10)).toEqual([]);
  });

  it('ignores a release or renewal of calls it was not given, and of none', async () => {
    await leases.acquire('rtc_a', 'replica-1', 60_000, '{}');
    await leases.release('replica-2', ['rtc_a']);
    await leases.release('replica-1', []);
    expect(await leases.renew('replica-1', [], 5000)).toEqual([]);
    expect(await leases.takeExpired('replica-2', 5000, 10)).toEqual([]);
  });
});
