import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { NewOutboxMessage } from './notification-outbox.js';
import { migrateToLatest } from './sql/migrations.js';
import { SqlNotificationOutbox } from './sql/sql-notification-outbox.js';
import { StorageHealth } from './storage-health.js';
import { TEST_DIALECTS, createTestDatabase, type TestDatabase } from '../../../test/storage/databases.js';

const message = (key: string, destination = 'discord:a', text = key): NewOutboxMessage<{ text: string }> => ({
  destination,
  callId: 'rtc_1',
  dedupeKey: key,
  payload: { text },
});

describe.each(TEST_DIALECTS)('the notification outbox on %s', (dialect) => {
  let database: TestDatabase;
  let outbox: SqlNotificationOutbox;

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    await migrateToLatest(database.db, dialect);
  });
  afterAll(async () => database?.drop());
  beforeEach(async () => {
    await database.db.deleteFrom('notification_outbox').execute();
    outbox = new SqlNotificationOutbox(database.db, new StorageHealth());
  });

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
});
