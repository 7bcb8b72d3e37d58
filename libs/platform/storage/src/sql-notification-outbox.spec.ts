import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Migrator, sql } from 'kysely';
import type { NewOutboxMessage } from './notification-outbox.js';
import { migrateToLatest, storageMigrations } from './sql/migrations.js';
import { SqlNotificationOutbox } from './sql/sql-notification-outbox.js';
import { StorageHealth } from './storage-health.js';
import { ManualClock, TEST_DIALECTS, createTestDatabase, type TestDatabase } from '#testing';

const message = (key: string, destination = 'discord:a', text = key): NewOutboxMessage<{ text: string }> => ({
  destination,
  callId: 'rtc_1',
  dedupeKey: key,
  payload: { text },
});

describe.each(TEST_DIALECTS)('the notification outbox on %s', (dialect) => {
  let database: TestDatabase;
  let outbox: SqlNotificationOutbox;
  /** Every process's clock (leases are deadlines on it): it moves only when a test moves it. */
  let clock: ManualClock;

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    await migrateToLatest(database.db, dialect);
  });
  afterAll(async () => database?.drop());
  beforeEach(async () => {
    await database.db.deleteFrom('notification_outbox').execute();
    clock = new ManualClock();
    outbox = new SqlNotificationOutbox(database.db, new StorageHealth(), dialect, clock);
  });

  /** Another process on the same database: PostgreSQL's own connection; for SQLite, a later start. */
  const another = () => new SqlNotificationOutbox(database.connect(), new StorageHealth(), dialect, clock);
  const texts = (messages: Array<{ payload: { text: string } }>) => messages.map((m) => m.payload.text);
  const owners = async () =>
    (await database.db.selectFrom('notification_outbox').select(['dedupe_key', 'owner']).orderBy('id').execute()).map((r) => [r.dedupe_key, r.owner]);

  it('stores messages in the order given, and pending() returns them oldest first per destination', async () => {
    const stored = await outbox.enqueue([message('1'), message('2', 'discord:b'), message('3')]);
    expect(stored.map((m) => m.payload.text)).toEqual(['1', '2', '3']);
    expect(stored[0].id).toBeLessThan(stored[2].id);
    expect((await outbox.pending<{ text: string }>('discord:a')).map((m) => m.payload.text)).toEqual(['1', '3']);
    expect((await outbox.pending()).map((m) => m.dedupeKey)).toEqual(['1', '2', '3']);
  });

  it('stores a message once per destination and key, whatever number of times it is enqueued', async () => {
    const [first] = await outbox.enqueue([message('line:0', 'discord:a', 'first')]);
    const [again] = await outbox.enqueue([message('line:0', 'discord:a', 'second')]);
    expect(again.id).toBe(first.id);
    expect(again.payload).toEqual({ text: 'first' });
    expect(await outbox.pending()).toHaveLength(1);
  });

  it('keeps the order given across a large batch, and answers every message with its row', async () => {
    const batch = Array.from({ length: 450 }, (_, i) => message(`k${i}`, i % 3 === 0 ? 'discord:b' : 'discord:a'));
    const stored = await outbox.enqueue(batch);
    expect(stored.map((m) => m.dedupeKey)).toEqual(batch.map((m) => m.dedupeKey));
    expect(stored.map((m) => m.destination)).toEqual(batch.map((m) => m.destination));
    const ids = stored.map((m) => m.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(450);
    expect((await outbox.pending(undefined, 1000)).map((m) => m.dedupeKey)).toEqual(batch.map((m) => m.dedupeKey));
  });

  it('answers a batch mixing new and already stored keys (and a key twice) with the stored message of each', async () => {
    const [old] = await outbox.enqueue([message('line:1', 'discord:a', 'old')]);
    const stored = await outbox.enqueue([
      message('line:0', 'discord:a', 'zero'),
      message('line:1', 'discord:a', 'replayed'),
      message('line:1', 'discord:b', 'other destination'),
      message('line:2', 'discord:a', 'two'),
      message('line:2', 'discord:a', 'two again'),
    ]);
    expect(stored.map((m) => m.payload.text)).toEqual(['zero', 'old', 'other destination', 'two', 'two']);
    expect(stored[1].id).toBe(old.id);
    expect(stored[4].id).toBe(stored[3].id);
    expect(stored[0].id).toBeGreaterThan(old.id);
    expect(stored[3].id).toBeGreaterThan(stored[0].id);
    expect(await outbox.pending()).toHaveLength(4);
  });

  it('marks messages delivered or failed, and counts attempts', async () => {
    const [a, b, c] = await outbox.enqueue([message('a'), message('b'), message('c')]);
    await outbox.recordAttempt([a.id], 'HTTP 500');
    await outbox.markDelivered([a.id], new Date(1_700_000_000_000));
    await outbox.markFailed([b.id], 'HTTP 400 code 50035');
    const pending = await outbox.pending();
    expect(pending.map((m) => m.id)).toEqual([c.id]);
    const rows = await database.db.selectFrom('notification_outbox').selectAll().orderBy('id').execute();
    expect(rows.map((r) => [r.status, Number(r.attempts), r.last_error])).toEqual([
      ['delivered', 2, 'HTTP 500'],
      ['failed', 0, 'HTTP 400 code 50035'],
      ['pending', 0, null],
    ]);
    expect(Number(rows[0].delivered_at)).toBe(1_700_000_000_000);
  });

  describe('leases', () => {
    it('stores messages leased to their process, which each process names differently', async () => {
      const other = another();
      expect(other.owner).not.toBe(outbox.owner);
      expect(outbox.shared).toBe(dialect === 'postgres'); // SQLite in a data directory serves one process
      await outbox.enqueue([message('a')]);
      await other.enqueue([message('b')]);
      expect(await owners()).toEqual([
        ['a', outbox.owner],
        ['b', other.owner],
      ]);
    });

    it('adopts only what nobody holds: a live lease is left to its holder, a run-out or released one is taken', async () => {
      const live = another();
      const expiring = another();
      const released = another();
      // A SQLite store's first adoption takes everything (tested below): done before anything is stored, with the
      // lease each process then stores with (a process's rows share one deadline).
      for (const process of [live, released, outbox]) await process.adopt(60_000);
      await expiring.adopt(50);
      await live.enqueue([message('live')], 60_000);
      await expiring.enqueue([message('expiring')], 50);
      await released.enqueue([message('released')], 60_000);
      await released.releaseLeases();
      clock.advance(80);

      const adopted = await outbox.adopt<{ text: string }>(60_000);
      expect(texts(adopted)).toEqual(['expiring', 'released']);
      expect(adopted.map((m) => m.owner)).toEqual([outbox.owner, outbox.owner]);
      expect(await outbox.adopt()).toEqual([]); // now held, by this process
      expect(await owners()).toEqual([
        ['live', live.owner],
        ['expiring', outbox.owner],
        ['released', outbox.owner],
      ]);
    });

    it("gives all of a process's rows one deadline, so that they run out together", async () => {
      await outbox.adopt();
      await outbox.enqueue([message('first')], 60_000);
      clock.advance(15);
      await outbox.enqueue([message('later')], 60_000);
      const leases = async () =>
        (await database.db.selectFrom('notification_outbox').select('lease_until').orderBy('id').execute()).map((r) => Number(r.lease_until));
      const [first, later] = await leases();
      expect(later).toBe(first);
      await outbox.renewLeases(120_000);
      const renewed = await leases();
      expect(renewed[0]).toBeGreaterThan(first);
      expect(renewed[1]).toBe(renewed[0]);
      await outbox.enqueue([message('after renewal')], 60_000);
      expect((await leases())[2]).toBe(renewed[0]);
    });

    it("takes a process's rows only once all of them have run out", async () => {
      const gone = another();
      if (dialect === 'sqlite') await gone.adopt(1);
      await outbox.adopt();
      const [, late] = await gone.enqueue([message('1'), message('2'), message('3')], 1);
      // One row kept the later deadline of a renewal it raced with.
      await database.db.updateTable('notification_outbox').set({ lease_until: clock.now() + 300 }).where('id', '=', late.id).execute();
      clock.advance(10);
      expect(await outbox.adopt()).toEqual([]);
      clock.advance(350);
      expect(texts(await outbox.adopt<{ text: string }>())).toEqual(['1', '2', '3']);
    });

    it('adopts only messages for the destinations it is given', async () => {
      const gone = another();
      if (dialect === 'sqlite') await gone.adopt(1);
      await outbox.adopt();
      await gone.enqueue([message('a1', 'discord:a'), message('b1', 'discord:b'), message('a2', 'discord:a')], 1);
      clock.advance(10);
      expect(await outbox.adopt(60_000, [])).toEqual([]);
      expect(texts(await outbox.adopt<{ text: string }>(60_000, ['discord:a']))).toEqual(['a1', 'a2']);
      expect(texts(await outbox.adopt<{ text: string }>(60_000, ['discord:a', 'discord:b']))).toEqual(['b1']);
    });

    it('answers a message stored before with its holder, which alone delivers it', async () => {
      const holder = another();
      const [stored] = await holder.enqueue([message('announce')], 60_000);
      expect(stored.owner).toBe(holder.owner);
      const [again] = await outbox.enqueue([message('announce')], 60_000); // the same event, replayed on this replica
      expect(again.id).toBe(stored.id);
      expect(again.owner).toBe(holder.owner);
    });

    it('never adopts a delivered or failed message', async () => {
      const gone = another();
      if (dialect === 'sqlite') await gone.adopt(1);
      const [a, b] = await gone.enqueue([message('a'), message('b'), message('c')], 1);
      await gone.markDelivered([a.id], new Date());
      await gone.markFailed([b.id], 'HTTP 400');
      clock.advance(10);
      if (dialect === 'sqlite') await outbox.adopt(); // the start-up adoption
      else expect(texts(await outbox.adopt<{ text: string }>())).toEqual(['c']);
      expect(await owners()).toEqual([
        ['a', gone.owner],
        ['b', gone.owner],
        ['c', outbox.owner],
      ]);
    });

    it('keeps a lease alive while its holder renews it', async () => {
      const holder = another();
      if (dialect === 'sqlite') await holder.adopt(400);
      await outbox.adopt();
      await holder.enqueue([message('kept')], 400);
      for (let i = 0; i < 4; i++) {
        clock.advance(150);
        await holder.renewLeases(400);
        expect(await outbox.adopt()).toEqual([]);
      }
      clock.advance(500);
      expect(texts(await outbox.adopt<{ text: string }>())).toEqual(['kept']);
    });

    if (dialect === 'sqlite') {
      it('on SQLite, which one process uses, hands every pending message to the first adoption of a new start', async () => {
        const before = another();
        await before.enqueue([message('1'), message('2')], 60_000); // leased to a process that was then killed
        expect(texts(await outbox.adopt<{ text: string }>())).toEqual(['1', '2']);
        await before.enqueue([message('3')], 60_000);
        expect(await outbox.adopt()).toEqual([]); // only the first: after it, leases count
      });
    } else {
      it('on PostgreSQL, gives what a dead process left, whole, to one of several replicas adopting at once', async () => {
        const gone = another();
        await gone.enqueue(Array.from({ length: 300 }, (_, i) => message(`m${i}`, i % 2 ? 'discord:a' : 'discord:b')), 1);
        clock.advance(10);
        const replicas = Array.from({ length: 5 }, () => another());
        const results = await Promise.all(replicas.map((replica) => replica.adopt<{ text: string }>()));
        // Not split between replicas, which would then send one call's lines side by side, out of order.
        expect(results.map((adopted) => adopted.length).sort((a, b) => b - a)).toEqual([300, 0, 0, 0, 0]);
        const ids = results.flatMap((adopted) => adopted.map((m) => m.id));
        expect(new Set(ids).size).toBe(300);
      });

      it("leaves a live call's messages to the call's owner, who takes them whoever holds them", async () => {
        await database.db.deleteFrom('call_leases').execute();
        const gone = another();
        await gone.enqueue([message('live-1'), { ...message('other'), callId: 'rtc_2' }, message('live-2')], 1);
        await database.db
          .insertInto('call_leases')
          .values({ call_id: 'rtc_1', owner: 'replica-next', fence: 1, expires_at: Date.now() + 60_000, call: '{}', handover: false })
          .execute();
        clock.advance(10);
        try {
          // The generic adoption takes the ended call's message only: rtc_1 is still live on a replica.
          expect(texts(await outbox.adopt<{ text: string }>())).toEqual(['other']);
          const owner = another();
          const taken = await owner.adoptCall<{ text: string }>('rtc_1', 60_000);
          expect(texts(taken)).toEqual(['live-1', 'live-2']);
          expect(taken.every((m) => m.owner === owner.owner)).toBe(true);
          // Taken from whoever holds them, under a live lease too (the next owner of a call handed over again).
          expect(await another().adoptCall('rtc_1', 60_000)).toHaveLength(2);
          expect(await owner.adoptCall('rtc_1', 60_000)).toHaveLength(2);
          expect(await another().adoptCall('rtc_3', 60_000)).toEqual([]);
        } finally {
          await database.db.deleteFrom('call_leases').execute();
        }
      });
    }
  });
});

describe.each(TEST_DIALECTS)('the outbox leases migration on %s', (dialect) => {
  it('keeps what was pending before the upgrade, for the next start (SQLite) or after 30 s (PostgreSQL)', async () => {
    const database = await createTestDatabase(dialect);
    try {
      // On PostgreSQL, the migration tables of this test's own schema (as migrateToLatest names them).
      const schema =
        dialect === 'postgres'
          ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(database.db)).rows[0].schema
          : undefined;
      const migrator = new Migrator({
        db: database.db,
        provider: { getMigrations: async () => storageMigrations(dialect) },
        ...(schema ? { migrationTableSchema: schema } : {}),
      });
      expect((await migrator.migrateTo('0002_conference_links')).error).toBeUndefined();
      await sql`insert into notification_outbox (destination, call_id, dedupe_key, payload, status, created_at, next_attempt_at)
        values ('discord:a', 'rtc_1', 'old', '{"text":"from before"}', 'pending', 1, 1)`.execute(database.db);
      const upgrade = await migrator.migrateTo('0003_outbox_leases');
      expect(upgrade.error).toBeUndefined();
      expect(upgrade.results?.map((r) => r.migrationName)).toEqual(['0003_outbox_leases']);
      // The rest of the schema as this version runs it (adopt() reads call_leases, 0008).
      expect((await migrator.migrateToLatest()).error).toBeUndefined();

      const replica = new SqlNotificationOutbox(database.db, new StorageHealth(), dialect);
      const row = async () => database.db.selectFrom('notification_outbox').select(['owner', 'lease_until']).orderBy('id').execute();
      if (dialect === 'sqlite') {
        // One process: the next start takes it.
        expect((await replica.adopt<{ text: string }>()).map((m) => m.payload.text)).toEqual(['from before']);
        expect((await row())[0].owner).toBe(replica.owner);
      } else {
        // A replica of the previous version may still be sending it during the rolling update: it gets 30 s first,
        // and so does a row such a replica stores after the migration (it sets no lease).
        await sql`insert into notification_outbox (destination, call_id, dedupe_key, payload, status, created_at, next_attempt_at)
          values ('discord:a', 'rtc_1', 'old-version', '{"text":"old version"}', 'pending', 2, 2)`.execute(database.db);
        for (const { owner, lease_until } of await row()) {
          expect(owner).toBeNull();
          expect(Number(lease_until)).toBeGreaterThan(Date.now() + 25_000);
          expect(Number(lease_until)).toBeLessThanOrEqual(Date.now() + 30_000);
        }
        expect(await replica.adopt()).toEqual([]);
      }
    } finally {
      await database.drop();
    }
  });
});
