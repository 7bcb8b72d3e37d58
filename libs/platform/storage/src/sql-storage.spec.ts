import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import type { NewCallRecord, TranscriptLineRecord } from './call-records.repository.js';
import { migrateToLatest } from './sql/migrations.js';
import type { StorageDb } from './sql/schema.js';
import { InvalidCursorError, SqlCallRecordsRepository } from './sql/sql-call-records.repository.js';
import { SqlIdempotencyStore } from './sql/sql-idempotency.store.js';
import { StorageHealth } from './storage-health.js';
import { ManualClock, TEST_DIALECTS, createTestDatabase, failureOf, type TestDatabase } from '#testing';

// The one repository suite: every dialect must pass it unchanged. PostgreSQL joins when TEST_DATABASE_URL is set.

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

function newCall(callId: string, overrides: Partial<NewCallRecord> = {}): NewCallRecord {
  return {
    callId,
    profile: 'default',
    callerNumber: '+14155550100',
    dialledNumber: '+14155550199',
    forwardedFrom: null,
    fromUri: 'sip:+14155550100@carrier.example',
    sipCallId: `sip-${callId}`,
    twilioCallSid: null,
    conferenceName: null,
    acceptedAt: at(0),
    metadata: null,
    ...overrides,
  };
}

function line(callId: string, seq: number, overrides: Partial<TranscriptLineRecord> = {}): TranscriptLineRecord {
  return {
    callId,
    seq,
    speaker: seq % 2 === 0 ? 'agent' : 'caller',
    text: `line ${seq}`,
    itemId: `item_${seq}`,
    interrupted: false,
    placeholder: false,
    at: at(seq),
    ...overrides,
  };
}

describe.each(TEST_DIALECTS)('SQL storage on %s', (dialect) => {
  let database: TestDatabase;
  let db: StorageDb;
  let health: StorageHealth;
  let repo: SqlCallRecordsRepository;
  let store: SqlIdempotencyStore;
  /** The claims' time (their expiry): it moves only when a test moves it. */
  let clock: ManualClock;
  let firstMigration: Awaited<ReturnType<typeof migrateToLatest>>;

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    db = database.db;
    firstMigration = await migrateToLatest(db, dialect);
  });

  afterAll(async () => {
    await database?.drop();
  });

  beforeEach(async () => {
    for (const table of ['calls', 'transcript_lines', 'tool_invocations', 'notification_outbox', 'idempotency_claims'] as const) {
      await db.deleteFrom(table).execute();
    }
    health = new StorageHealth();
    repo = new SqlCallRecordsRepository(db, health);
    clock = new ManualClock();
    store = new SqlIdempotencyStore(db, new StorageHealth(), clock);
  });

  describe('migrations', () => {
    it('create the schema once and change nothing when run again', async () => {
      expect(firstMigration.map((r) => [r.migrationName, r.status])).toEqual([
        ['0001_initial', 'Success'],
        ['0002_conference_links', 'Success'],
        ['0003_outbox_leases', 'Success'],
        ['0004_console_search_events', 'Success'],
        ['0005_broadcasts', 'Success'],
        ['0006_search_prefix_index', 'Success'],
        ['0007_search_words_column', 'Success'],
        ['0008_call_leases', 'Success'],
      ]);
      expect(await migrateToLatest(db, dialect)).toEqual([]);
      expect(await migrateToLatest(database.connect(), dialect)).toEqual([]);
      const tables = (await db.introspection.getTables()).map((t) => t.name);
      expect(tables).toEqual(
        expect.arrayContaining(['calls', 'transcript_lines', 'tool_invocations', 'notification_outbox', 'idempotency_claims', 'conference_links']),
      );
    });

    it('store timestamps as numbers the driver returns as numbers (int8 parsed on PostgreSQL)', async () => {
      await repo.createCall(newCall('rtc_types', { acceptedAt: new Date(1_767_225_600_123) }));
      const row = await db.selectFrom('calls').select(['accepted_at']).where('call_id', '=', 'rtc_types').executeTakeFirstOrThrow();
      expect(row.accepted_at).toBe(1_767_225_600_123);
      const { rows } = await sql<{ n: number }>`select count(*) as n from calls`.execute(db);
      expect(rows[0].n).toBe(1);
    });

    it('give the outbox an auto-increment id', async () => {
      const base = { destination: 'discord', call_id: 'rtc_x', payload: '{}', status: 'pending', created_at: T0, next_attempt_at: T0 };
      const a = await db.insertInto('notification_outbox').values({ ...base, dedupe_key: 'a' }).returning('id').executeTakeFirstOrThrow();
      const b = await db.insertInto('notification_outbox').values({ ...base, dedupe_key: 'b' }).returning('id').executeTakeFirstOrThrow();
      expect(typeof a.id).toBe('number');
      expect(b.id).toBeGreaterThan(a.id);
      expect(await failureOf(db.insertInto('notification_outbox').values({ ...base, dedupe_key: 'a' }).execute())).toMatch(/unique/i);
    });
  });

  describe('calls', () => {
    it('round-trips every field: dates, nulls and parsed metadata', async () => {
      const record = newCall('rtc_full', {
        forwardedFrom: '+14155550111',
        twilioCallSid: 'CA123',
        conferenceName: 'conf-1',
        metadata: { tenant: 'acme', tags: ['vip'], nested: { n: 1 } },
      });
      await repo.createCall(record);
      expect(await repo.getCall('rtc_full')).toEqual({
        ...record,
        status: 'active',
        endedAt: null,
        endReason: null,
      });
      expect(await repo.getCall('rtc_missing')).toBeUndefined();
    });

    it('creates a call once: a repeated create changes nothing', async () => {
      await repo.createCall(newCall('rtc_once', { profile: 'first' }));
      await repo.createCall(newCall('rtc_once', { profile: 'second', status: 'rejected', endedAt: at(1), endReason: 'busy' }));
      const call = await repo.getCall('rtc_once');
      expect(call).toMatchObject({ profile: 'first', status: 'active', endedAt: null });
      expect(await db.selectFrom('calls').select('call_id').execute()).toHaveLength(1);
    });

    it('ends a call once: the first end is kept', async () => {
      await repo.createCall(newCall('rtc_end'));
      await repo.endCall('rtc_end', { status: 'ended', endedAt: at(5), endReason: 'remote_closed' });
      await repo.endCall('rtc_end', { status: 'failed', endedAt: at(9), endReason: 'shutdown' });
      expect(await repo.getCall('rtc_end')).toMatchObject({ status: 'ended', endedAt: at(5), endReason: 'remote_closed' });
    });

    it('keeps the end a call was created with (a rejected call), and ignores the end of an unknown call', async () => {
      await repo.createCall(newCall('rtc_rej', { status: 'rejected', endedAt: at(0), endReason: 'no_capacity' }));
      await repo.endCall('rtc_rej', { status: 'ended', endedAt: at(3), endReason: 'remote_closed' });
      expect(await repo.getCall('rtc_rej')).toMatchObject({ status: 'rejected', endedAt: at(0), endReason: 'no_capacity' });
      await expect(repo.endCall('rtc_nobody', { status: 'ended', endedAt: at(3), endReason: 'error' })).resolves.toBeUndefined();
      expect(await repo.getCall('rtc_nobody')).toBeUndefined();
    });
  });

  describe('batched writes', () => {
    it('applies creates, ends and lines of several calls in order, in one transaction', async () => {
      await repo.write([
        { kind: 'end', callId: 'rtc_b1', end: { status: 'failed', endedAt: at(1), endReason: 'error' } },
        { kind: 'create', record: newCall('rtc_b1') },
        { kind: 'lines', lines: [line('rtc_b1', 0), line('rtc_b1', 1)] },
        { kind: 'create', record: newCall('rtc_b2') },
        { kind: 'end', callId: 'rtc_b1', end: { status: 'ended', endedAt: at(4), endReason: 'remote_closed' } },
      ]);
      // The end written before its call's row found nothing to end: order is kept.
      expect(await repo.getCall('rtc_b1')).toMatchObject({ status: 'ended', endedAt: at(4), endReason: 'remote_closed' });
      expect(await repo.getCall('rtc_b2')).toMatchObject({ status: 'active', endedAt: null });
      expect((await repo.transcript('rtc_b1')).map((l) => l.seq)).toEqual([0, 1]);
    });

    it('stores all of a batch or none of it: one failing write leaves the others unwritten, to be retried together', async () => {
      await repo.createCall(newCall('rtc_b2'));
      const failing = repo.write([
        { kind: 'create', record: newCall('rtc_b3') },
        { kind: 'end', callId: 'rtc_b2', end: { status: 'ended', endedAt: at(4), endReason: 'remote_closed' } },
        // The schema refuses a line without text.
        { kind: 'lines', lines: [line('rtc_b3', 0, { text: null as unknown as string })] },
      ]);
      expect(await failureOf(failing)).toMatch(/null/i);
      expect(await repo.getCall('rtc_b3')).toBeUndefined();
      expect(await repo.getCall('rtc_b2')).toMatchObject({ status: 'active', endedAt: null });
      expect(health.failing).toBe(true);
    });

    it('writes nothing for an empty batch, or for a batch of empty line writes', async () => {
      await expect(repo.write([])).resolves.toBeUndefined();
      await expect(repo.write([{ kind: 'lines', lines: [] }, { kind: 'lines', lines: [] }])).resolves.toBeUndefined();
      expect(await db.selectFrom('transcript_lines').select('call_id').execute()).toEqual([]);
    });
  });

  describe('transcript lines', () => {
    it('appends each (call, seq) once and reads them in seq order', async () => {
      await repo.createCall(newCall('rtc_t'));
      await repo.appendLines([line('rtc_t', 2), line('rtc_t', 0, { interrupted: true })]);
      await repo.appendLines([line('rtc_t', 1, { placeholder: true, itemId: null }), line('rtc_t', 2, { text: 'retried, different' })]);
      await repo.appendLines([line('rtc_t', 0, { text: 'again' }), line('rtc_t', 0, { text: 'twice in one batch' })]);
      await repo.appendLines([]);
      expect(await repo.transcript('rtc_t')).toEqual([
        line('rtc_t', 0, { interrupted: true }),
        line('rtc_t', 1, { placeholder: true, itemId: null }),
        line('rtc_t', 2),
      ]);
      expect(await repo.transcript('rtc_other')).toEqual([]);
    });

    it('keeps the lines of different calls apart and takes large batches', async () => {
      await repo.appendLines([line('rtc_a', 0), line('rtc_b', 0), line('rtc_a', 1)]);
      const many = Array.from({ length: 1203 }, (_, seq) => line('rtc_big', seq));
      await repo.appendLines(many);
      await repo.appendLines(many.slice(600, 700));
      expect((await repo.transcript('rtc_a')).map((l) => l.seq)).toEqual([0, 1]);
      expect((await repo.transcript('rtc_b')).map((l) => l.seq)).toEqual([0]);
      const big = await repo.transcript('rtc_big');
      expect(big).toHaveLength(1203);
      expect(big.every((l, i) => l.seq === i)).toBe(true);
    });
  });

  describe('listCalls', () => {
    // Newest first: accepted_at desc, then call_id desc for equal times.
    const calls: NewCallRecord[] = [
      newCall('rtc_1', { acceptedAt: at(1), callerNumber: '+15550000001', profile: 'sales' }),
      newCall('rtc_2', { acceptedAt: at(2), dialledNumber: '+15550000001' }),
      newCall('rtc_3a', { acceptedAt: at(3), forwardedFrom: '+15550000001', profile: 'sales' }),
      newCall('rtc_3b', { acceptedAt: at(3) }),
      newCall('rtc_3c', { acceptedAt: at(3), profile: 'sales' }),
      newCall('rtc_4', { acceptedAt: at(4), callerNumber: '+15550000002' }),
      newCall('rtc_5', { acceptedAt: at(5), callerNumber: null, dialledNumber: null, profile: null }),
    ];
    const newestFirst = ['rtc_5', 'rtc_4', 'rtc_3c', 'rtc_3b', 'rtc_3a', 'rtc_2', 'rtc_1'];

    beforeEach(async () => {
      for (const call of [...calls].reverse()) await repo.createCall(call);
    });

    async function allPages(query: Omit<Parameters<SqlCallRecordsRepository['listCalls']>[0], 'cursor'>) {
      const pages: string[][] = [];
      let cursor: string | undefined;
      do {
        const page = await repo.listCalls({ ...query, cursor });
        pages.push(page.calls.map((c) => c.callId));
        cursor = page.nextCursor;
        expect(pages.length).toBeLessThan(20);
      } while (cursor);
      return pages;
    }

    it('returns the newest first, a page at a time, with a cursor until the last page', async () => {
      expect(await allPages({ limit: 3 })).toEqual([newestFirst.slice(0, 3), newestFirst.slice(3, 6), newestFirst.slice(6)]);
      expect(await allPages({ limit: 7 })).toEqual([newestFirst]);
      expect(await allPages({ limit: 100 })).toEqual([newestFirst]);
      const first = await repo.listCalls({ limit: 2 });
      expect(first.calls[0]).toMatchObject({ callId: 'rtc_5', acceptedAt: at(5), status: 'active' });
      expect(typeof first.nextCursor).toBe('string');
    });

    it('pages stably across calls of the same second (the call id breaks the tie)', async () => {
      expect((await allPages({ limit: 1 })).flat()).toEqual(newestFirst);
      expect((await allPages({ limit: 2 })).flat()).toEqual(newestFirst);
    });

    it('does not repeat or skip rows when newer calls arrive between pages', async () => {
      const first = await repo.listCalls({ limit: 3 });
      await repo.createCall(newCall('rtc_9', { acceptedAt: at(9) }));
      const rest = await repo.listCalls({ limit: 10, cursor: first.nextCursor });
      expect([...first.calls, ...rest.calls].map((c) => c.callId)).toEqual(newestFirst);
    });

    it('filters by a number as caller, dialled or forwarded-from', async () => {
      expect((await allPages({ limit: 2, number: '+15550000001' })).flat()).toEqual(['rtc_3a', 'rtc_2', 'rtc_1']);
      expect((await allPages({ limit: 10, number: '+15550000002' })).flat()).toEqual(['rtc_4']);
      expect((await allPages({ limit: 10, number: '+19999999999' })).flat()).toEqual([]);
    });

    it('filters by profile and by time (from inclusive, to exclusive)', async () => {
      expect((await allPages({ limit: 1, profile: 'sales' })).flat()).toEqual(['rtc_3c', 'rtc_3a', 'rtc_1']);
      expect((await allPages({ limit: 2, from: at(3) })).flat()).toEqual(['rtc_5', 'rtc_4', 'rtc_3c', 'rtc_3b', 'rtc_3a']);
      expect((await allPages({ limit: 2, to: at(3) })).flat()).toEqual(['rtc_2', 'rtc_1']);
      expect((await allPages({ limit: 2, from: at(2), to: at(4) })).flat()).toEqual(['rtc_3c', 'rtc_3b', 'rtc_3a', 'rtc_2']);
      expect(
        (await allPages({ limit: 1, from: at(2), to: at(5), profile: 'sales', number: '+15550000001' })).flat(),
      ).toEqual(['rtc_3a']);
    });

    it('rejects a cursor it did not produce, and a limit that is not a positive integer, with a RangeError', async () => {
      for (const cursor of ['not-a-cursor', '', '%%%', Buffer.from('[1]').toString('base64url'), Buffer.from('{"a":1}').toString('base64url')]) {
        await expect(repo.listCalls({ limit: 2, cursor })).rejects.toBeInstanceOf(InvalidCursorError);
      }
      await expect(repo.listCalls({ limit: 2, cursor: 'x' })).rejects.toBeInstanceOf(RangeError);
      await expect(repo.listCalls({ limit: 0 })).rejects.toBeInstanceOf(RangeError);
      await expect(repo.listCalls({ limit: 1.5 })).rejects.toBeInstanceOf(RangeError);
    });
  });

  describe('purgeEndedBefore', () => {
    it('deletes calls that ended before the cutoff with their lines, and keeps active and later ones', async () => {
      await repo.createCall(newCall('rtc_old', { acceptedAt: at(0) }));
      await repo.endCall('rtc_old', { status: 'ended', endedAt: at(10), endReason: 'remote_closed' });
      await repo.createCall(newCall('rtc_old_rejected', { status: 'rejected', endedAt: at(1), endReason: 'busy' }));
      await repo.createCall(newCall('rtc_recent', { acceptedAt: at(0) }));
      await repo.endCall('rtc_recent', { status: 'ended', endedAt: at(30), endReason: 'remote_closed' });
      await repo.createCall(newCall('rtc_active', { acceptedAt: at(-1000) }));
      for (const id of ['rtc_old', 'rtc_recent', 'rtc_active']) await repo.appendLines([line(id, 0), line(id, 1)]);
      await db
        .insertInto('tool_invocations')
        .values({ id: 'ti_1', call_id: 'rtc_old', tool_call_id: 'fc_1', name: 'hang_up', arguments: '{}', result: null, status: 'done', started_at: T0, finished_at: null })
        .execute();

      expect(await repo.purgeEndedBefore(at(20))).toBe(2);

      expect(await repo.getCall('rtc_old')).toBeUndefined();
      expect(await repo.getCall('rtc_old_rejected')).toBeUndefined();
      expect(await repo.transcript('rtc_old')).toEqual([]);
      expect(await db.selectFrom('tool_invocations').selectAll().execute()).toEqual([]);
      expect(await repo.getCall('rtc_recent')).toBeDefined();
      expect(await repo.transcript('rtc_recent')).toHaveLength(2);
      expect(await repo.getCall('rtc_active')).toMatchObject({ status: 'active' });
      expect(await repo.transcript('rtc_active')).toHaveLength(2);
      expect(await repo.purgeEndedBefore(at(20))).toBe(0);
    });

    it('purges more calls than one batch', async () => {
      const rows = Array.from({ length: 1234 }, (_, i) => ({
        call_id: `rtc_bulk_${String(i).padStart(5, '0')}`,
        status: 'ended',
        accepted_at: T0,
        ended_at: T0 + i,
      }));
      for (let i = 0; i < rows.length; i += 200) await db.insertInto('calls').values(rows.slice(i, i + 200)).execute();
      await repo.createCall(newCall('rtc_keep'));
      expect(await repo.purgeEndedBefore(at(1))).toBe(1234);
      expect((await repo.listCalls({ limit: 10 })).calls.map((c) => c.callId)).toEqual(['rtc_keep']);
    });
  });

  describe('storage health', () => {
    it('records the last failed write and clears "failing" on the next success', async () => {
      await repo.createCall(newCall('rtc_ok'));
      expect(health.failing).toBe(false);
      expect(health.lastSuccessAt).toBeInstanceOf(Date);
      // A row the schema refuses (text is NOT NULL) stands in for an outage.
      expect(await failureOf(repo.appendLines([line('rtc_ok', 0, { text: null as never })]))).toMatch(/null/i);
      expect(health.failing).toBe(true);
      expect(health.lastError).toEqual({ at: expect.any(Date), message: expect.any(String) });
      await repo.appendLines([line('rtc_ok', 0)]);
      expect(health.failing).toBe(false);
      expect(health.lastError).toBeDefined();
    });
  });

  describe('idempotency claims', () => {
    it('claims a key once until it is released', async () => {
      expect(await store.claim('wh_1', 60_000)).toBe(true);
      expect(await store.claim('wh_1', 60_000)).toBe(false);
      expect(await store.claim('wh_2', 60_000)).toBe(true);
      await store.release('wh_1');
      expect(await store.claim('wh_1', 60_000)).toBe(true);
      expect(await store.claim('wh_1', 60_000)).toBe(false);
      await expect(store.release('never-claimed')).resolves.toBeUndefined();
    });

    it('lets a key be claimed again once its claim has expired', async () => {
      expect(await store.claim('wh_exp', 30)).toBe(true);
      expect(await store.claim('wh_exp', 60_000)).toBe(false);
      clock.advance(60);
      expect(await store.claim('wh_exp', 60_000)).toBe(true);
      expect(await store.claim('wh_exp', 60_000)).toBe(false);
    });

    it('deletes expired claims only', async () => {
      await store.claim('live', 60_000);
      await store.claim('dead', 1);
      clock.advance(20);
      expect(await store.deleteExpired()).toBe(1);
      expect(await store.claim('live', 60_000)).toBe(false);
      expect(await store.claim('dead', 60_000)).toBe(true);
    });

    it('gives a key to exactly one of 20 concurrent claimants, on several connections', async () => {
      const stores = [store, new SqlIdempotencyStore(database.connect(), new StorageHealth(), clock)];
      const attempt = (key: string) =>
        Promise.all(Array.from({ length: 20 }, (_, i) => stores[i % stores.length].claim(key, 60_000)));
      const fresh = await attempt('race_fresh');
      expect(fresh.filter(Boolean)).toHaveLength(1);

      // Taking over an expired claim is as exclusive as a first claim.
      await store.claim('race_expired', 1);
      clock.advance(20);
      const expired = await attempt('race_expired');
      expect(expired.filter(Boolean)).toHaveLength(1);
    });

    it('pings the database', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
});
