import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { migrateToLatest } from './sql/migrations.js';
import type { StorageDb } from './sql/schema.js';
import { SqlToolInvocations } from './sql/sql-tool-invocations.js';
import { StorageHealth } from './storage-health.js';
import { durationOf, type ToolInvocationRecord } from './tool-invocations.js';
import { TEST_DIALECTS, createTestDatabase, failureOf, type TestDatabase } from '#testing';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

function run(toolCallId: string, overrides: Partial<ToolInvocationRecord> = {}): ToolInvocationRecord {
  return {
    id: `id_${toolCallId}`,
    callId: 'rtc_1',
    toolCallId,
    name: 'lookup_order',
    arguments: '{"order_number":"4217"}',
    result: null,
    status: 'running',
    startedAt: new Date(T0),
    finishedAt: null,
    ...overrides,
  };
}

describe.each(TEST_DIALECTS)('SqlToolInvocations on %s', (dialect) => {
  let database: TestDatabase;
  let db: StorageDb;
  let health: StorageHealth;
  let invocations: SqlToolInvocations;

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    db = database.db;
    await migrateToLatest(db, dialect);
  });

  afterAll(async () => {
    await database?.drop();
  });

  beforeEach(async () => {
    await db.deleteFrom('tool_invocations').execute();
    health = new StorageHealth();
    invocations = new SqlToolInvocations(db, health);
  });

  it('stores a run when it starts and completes it when it ends, keeping its id and start', async () => {
    await invocations.upsert([run('call_1')]);
    expect(await invocations.forCall('rtc_1')).toEqual([run('call_1')]);
    const finished = run('call_1', {
      id: 'another_id',
      status: 'succeeded',
      result: '{"status":"shipped"}',
      startedAt: new Date(T0 + 999),
      finishedAt: new Date(T0 + 42),
    });
    await invocations.upsert([finished]);
    const [stored] = await invocations.forCall('rtc_1');
    expect(stored).toEqual({ ...finished, id: 'id_call_1', startedAt: new Date(T0) });
    expect(durationOf(stored)).toBe(42);
    expect(health.failing).toBe(false);
  });

  it('never lets a late running write undo a final status, and accepts the same final write twice', async () => {
    const done = run('call_2', { status: 'timed_out', result: '{"error":{}}', finishedAt: new Date(T0 + 10_000) });
    await invocations.upsert([run('call_2'), done]);
    await invocations.upsert([done]);
    await invocations.upsert([run('call_2')]);
    expect(await invocations.forCall('rtc_1')).toEqual([done]);
  });

  it('writes a batch with several writes of one run (the last wins) and many runs', async () => {
    const batch: ToolInvocationRecord[] = [];
    for (let i = 0; i < 450; i++) {
      batch.push(run(`call_${i}`, { startedAt: new Date(T0 + i) }));
      batch.push(run(`call_${i}`, { startedAt: new Date(T0 + i), status: 'succeeded', result: `"${i}"`, finishedAt: new Date(T0 + i + 1) }));
    }
    await invocations.upsert(batch);
    const stored = await invocations.forCall('rtc_1');
    expect(stored).toHaveLength(450);
    expect(stored.every((r) => r.status === 'succeeded')).toBe(true);
    expect(stored[0].toolCallId).toBe('call_0');
    expect(stored[449].result).toBe('"449"');
  });

  it('keeps runs of different calls apart and lists a call in start order', async () => {
    await invocations.upsert([
      run('call_b', { startedAt: new Date(T0 + 5) }),
      run('call_a', { startedAt: new Date(T0 + 1) }),
      run('call_a', { id: 'other', callId: 'rtc_2' }),
    ]);
    expect((await invocations.forCall('rtc_1')).map((r) => r.toolCallId)).toEqual(['call_a', 'call_b']);
    expect((await invocations.forCall('rtc_2')).map((r) => r.id)).toEqual(['other']);
    expect(await invocations.forCall('rtc_none')).toEqual([]);
  });

  it('records a failed write in StorageHealth', async () => {
    await sql`alter table tool_invocations rename to tool_invocations_away`.execute(db);
    try {
      expect(await failureOf(invocations.upsert([run('call_x')]))).toMatch(/tool_invocations/);
      expect(health.failing).toBe(true);
    } finally {
      await sql`alter table tool_invocations_away rename to tool_invocations`.execute(db);
    }
    await invocations.upsert([run('call_x')]);
    expect(health.failing).toBe(false);
  });
});
