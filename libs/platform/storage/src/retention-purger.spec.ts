import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { CallRecordsRepository } from './call-records.repository.js';
import { RetentionPurger } from './retention-purger.js';
import { migrateToLatest } from './sql/migrations.js';
import { SqlCallRecordsRepository } from './sql/sql-call-records.repository.js';
import { SqlIdempotencyStore } from './sql/sql-idempotency.store.js';
import { StorageHealth } from './storage-health.js';
import { ManualClock, createTestDatabase, settle, type TestDatabase } from '#testing';

const DAY = 24 * 60 * 60 * 1000;
const NOW = new Date(Date.UTC(2026, 5, 1));

let database: TestDatabase;
let records: SqlCallRecordsRepository;
let claims: SqlIdempotencyStore;
/** The purgers' and the claims' time: it moves only when a test moves it. */
let clock: ManualClock;
const purgers: RetentionPurger[] = [];

function purger(config: { retentionDays?: number; purgeIntervalMs?: number }, repo: CallRecordsRepository = records) {
  const created = new RetentionPurger(
    { databaseUrl: undefined, dataDir: database.dataDir!, retentionDays: undefined, purgeIntervalMs: 3_600_000, ...config },
    repo,
    claims,
    clock,
  );
  purgers.push(created);
  return created;
}

async function seed() {
  const call = (callId: string, endedDaysAgo?: number) => ({
    callId,
    profile: null,
    callerNumber: null,
    dialledNumber: null,
    forwardedFrom: null,
    fromUri: null,
    sipCallId: null,
    twilioCallSid: null,
    conferenceName: null,
    metadata: null,
    acceptedAt: new Date(NOW.getTime() - 100 * DAY),
    ...(endedDaysAgo === undefined ? {} : { status: 'ended' as const, endedAt: new Date(NOW.getTime() - endedDaysAgo * DAY), endReason: 'remote_closed' }),
  });
  await records.createCall(call('rtc_40_days', 40));
  await records.createCall(call('rtc_31_days', 31));
  await records.createCall(call('rtc_29_days', 29));
  await records.createCall(call('rtc_active'));
  await records.appendLines([{ callId: 'rtc_40_days', seq: 0, speaker: 'caller', text: 'hi', itemId: null, interrupted: false, placeholder: false, at: NOW }]);
}

beforeAll(async () => {
  database = await createTestDatabase('sqlite');
  await migrateToLatest(database.db, 'sqlite');
  records = new SqlCallRecordsRepository(database.db, new StorageHealth());
});

afterAll(() => database.drop());

beforeEach(async () => {
  jest.spyOn(Logger.prototype, 'debug').mockImplementation(() => {});
  clock = new ManualClock(NOW);
  claims = new SqlIdempotencyStore(database.db, new StorageHealth(), clock);
  await database.db.deleteFrom('calls').execute();
  await database.db.deleteFrom('transcript_lines').execute();
  await database.db.deleteFrom('idempotency_claims').execute();
  await seed();
});

afterEach(() => {
  for (const p of purgers.splice(0)) p.onModuleDestroy();
  claims.onModuleDestroy();
  jest.restoreAllMocks();
});

const remaining = async () => (await records.listCalls({ limit: 100 })).calls.map((c) => c.callId).sort();

describe('RetentionPurger', () => {
  it('deletes calls that ended more than the retention ago, with their transcripts, and logs the count', async () => {
    const log = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => {});
    expect(await purger({ retentionDays: 30 }).runOnce(NOW)).toEqual({ calls: 2, claims: 0 });
    expect(await remaining()).toEqual(['rtc_29_days', 'rtc_active']);
    expect(await records.transcript('rtc_40_days')).toEqual([]);
    expect(log).toHaveBeenCalledWith(expect.stringMatching(/deleted 2 call\(s\) ended before 2026-05-02T00:00:00.000Z/));
  });

  it('keeps every call when no retention is set, and still drops expired idempotency claims', async () => {
    await claims.claim('expired', 1);
    await claims.claim('live', 60_000);
    clock.advance(10);
    expect(await purger({}).runOnce()).toEqual({ claims: 1 }); // now: the clock's
    expect(await remaining()).toEqual(['rtc_29_days', 'rtc_31_days', 'rtc_40_days', 'rtc_active']);
    expect(await claims.claim('live', 60_000)).toBe(false);
  });

  it("runs every registered feature task with each purge, in order, and reports each count under its name", async () => {
    const seen: Array<[string, Date]> = [];
    const p = purger({});
    p.register({ name: 'first', purge: async (now) => (seen.push(['first', now]), 2) });
    p.register({ name: 'second', purge: async (now) => (seen.push(['second', now]), 0) });
    expect(await p.runOnce(NOW)).toEqual({ claims: 0, first: 2, second: 0 });
    expect(seen).toEqual([
      ['first', NOW],
      ['second', NOW],
    ]);
  });

  it('reports a failing feature task like any failing purge: logged, undefined, and the next purge runs again', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
    const p = purger({});
    let fail = true;
    p.register({ name: 'flaky', purge: async () => (fail ? Promise.reject(new Error('disk I/O error')) : 1) });
    expect(await p.runOnce(NOW)).toBeUndefined();
    expect(warn.mock.calls.join('\n')).toMatch(/disk I\/O error/);
    fail = false;
    expect(await p.runOnce(NOW)).toEqual({ claims: 0, flaky: 1 });
  });

  it('never throws: a failing purge is logged (without secrets) and reported as undefined', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
    const broken = {
      purgeEndedBefore: () => Promise.reject(new Error('connect failed for postgres://u:hunter2@db/x')),
    } as unknown as CallRecordsRepository;
    await expect(purger({ retentionDays: 1 }, broken).runOnce(NOW)).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toContain('storage purge failed');
    expect(String(warn.mock.calls[0][0])).not.toContain('hunter2');
  });

  it('does not overlap itself', async () => {
    let finish!: () => void;
    let reached!: () => void;
    const deleting = new Promise<void>((resolve) => (reached = resolve));
    const slow = {
      purgeEndedBefore: () => {
        reached();
        return new Promise<number>((r) => (finish = () => r(0)));
      },
    } as unknown as CallRecordsRepository;
    const p = purger({ retentionDays: 1 }, slow);
    const first = p.runOnce(NOW);
    await deleting; // the first purge is under way, past the claims
    expect(await p.runOnce(NOW)).toBeUndefined();
    let idle = false;
    const waiting = p.idle().then(() => (idle = true));
    await settle();
    expect(idle).toBe(false);
    finish();
    await expect(first).resolves.toEqual({ calls: 0, claims: 0 });
    await waiting;
  });

  it('runs by itself shortly after start and then every interval, until the module is destroyed', async () => {
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => {});
    const purge = jest.spyOn(records, 'purgeEndedBefore');
    const p = purger({ retentionDays: 30, purgeIntervalMs: 1000 });
    p.onApplicationBootstrap();
    expect(clock.nextIn).toBe(1000); // the first run: the interval, being shorter than 10 s
    expect(purge).not.toHaveBeenCalled();
    // Two timers on the clock: the next run's and the claims' own (their generations turn every five minutes).
    for (let run = 1; run <= 2; run++) {
      clock.advance(1000);
      await p.idle();
      expect(purge).toHaveBeenCalledTimes(run);
      await clock.whenPending(2); // the run after it is set
    }
    clock.advance(300); // 2.3 s in all
    expect(purge).toHaveBeenCalledTimes(2);
    expect(await remaining()).not.toContain('rtc_40_days');
    expect(await remaining()).toContain('rtc_active');
    p.onModuleDestroy();
    expect(clock.pending).toBe(1); // the claims' rotation alone: nothing of the purger's is left
    clock.advance(1200);
    await p.idle();
    expect(purge).toHaveBeenCalledTimes(2);
  });
});
