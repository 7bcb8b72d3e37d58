import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Injectable, Logger, Module, type INestApplicationContext, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { sql } from 'kysely';
import { CallRecordsRepository } from './call-records.repository.js';
import { IdempotencyStore } from './idempotency.store.js';
import { createSqliteDatabase } from './sql/database.js';
import type { StorageDb } from './sql/schema.js';
import { SqlCallRecordsRepository } from './sql/sql-call-records.repository.js';
import { SqlIdempotencyStore } from './sql/sql-idempotency.store.js';
import { StorageHealth } from './storage-health.js';
import { StorageModule } from './storage.module.js';
import { KYSELY } from './storage.tokens.js';
import { ResilienceModule } from '#resilience';
import { EnvironmentSandbox, TEST_DATABASE_URL, createTestDatabase, failureOf } from '#testing';

const env = new EnvironmentSandbox(['DATABASE_URL', 'DATA_DIR', 'TRANSCRIPT_RETENTION_DAYS', 'STORAGE_PURGE_INTERVAL_MS']);
let dir: string;

/** A feature module that still writes while the application shuts down (as the call-record writer does). */
const lateWrites: string[] = [];
@Injectable()
class LateWriter implements OnApplicationShutdown {
  constructor(private readonly records: CallRecordsRepository) {}
  async onApplicationShutdown() {
    await new Promise((r) => setTimeout(r, 50));
    await this.records.createCall({
      callId: 'rtc_written_at_shutdown',
      profile: null,
      callerNumber: null,
      dialledNumber: null,
      forwardedFrom: null,
      fromUri: null,
      sipCallId: null,
      twilioCallSid: null,
      conferenceName: null,
      acceptedAt: new Date(),
      metadata: null,
    });
    lateWrites.push('rtc_written_at_shutdown');
  }
}
@Module({ providers: [LateWriter] })
class FeatureModule {}

async function boot(variables: Record<string, string>): Promise<INestApplicationContext> {
  env.set(variables);
  const moduleRef = await Test.createTestingModule({
    imports: [ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true }), ResilienceModule, StorageModule, FeatureModule],
  }).compile();
  const app = await moduleRef.init();
  return app;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'storage-module-spec-'));
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => {});
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  jest.restoreAllMocks();
});

afterEach(() => env.restore());

describe('StorageModule', () => {
  it('uses SQLite in DATA_DIR by default (created if missing, WAL mode) behind both ports', async () => {
    const dataDir = join(dir, 'nested', 'data');
    const app = await boot({ DATA_DIR: dataDir });
    try {
      expect(existsSync(join(dataDir, 'bridge.sqlite'))).toBe(true);
      expect(app.get(IdempotencyStore)).toBeInstanceOf(SqlIdempotencyStore);
      expect(app.get(CallRecordsRepository)).toBeInstanceOf(SqlCallRecordsRepository);
      const db = app.get<StorageDb>(KYSELY);
      const { rows } = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(db);
      expect(rows[0].journal_mode).toBe('wal');
      await expect(app.get(IdempotencyStore).ping()).resolves.toBeUndefined();
      expect(await app.get(IdempotencyStore).claim('k', 60_000)).toBe(true);
      expect(app.get(StorageHealth).failing).toBe(false);
    } finally {
      await app.close();
    }
  });

  it('keeps data across restarts and closes the database only after feature modules have shut down', async () => {
    const dataDir = join(dir, 'restart');
    const first = await boot({ DATA_DIR: dataDir });
    expect(await first.get(IdempotencyStore).claim('wh_restart', 60_000)).toBe(true);
    const store = first.get(IdempotencyStore);
    await first.close();
    expect(lateWrites).toContain('rtc_written_at_shutdown');
    expect(await failureOf(store.ping())).toEqual(expect.any(String));

    const second = await boot({ DATA_DIR: dataDir });
    try {
      expect(await second.get(IdempotencyStore).claim('wh_restart', 60_000)).toBe(false);
      expect(await second.get(CallRecordsRepository).getCall('rtc_written_at_shutdown')).toBeDefined();
    } finally {
      await second.close();
    }
    // An ordinary database file that another process can open.
    const other = createSqliteDatabase(join(dataDir, 'bridge.sqlite'));
    try {
      expect(await other.selectFrom('idempotency_claims').select('key').where('key', '=', 'wh_restart').execute()).toEqual([
        { key: 'wh_restart' },
      ]);
    } finally {
      await other.destroy();
    }
  });

  it('records a failed write in StorageHealth', async () => {
    const app = await boot({ DATA_DIR: join(dir, 'health') });
    const health = app.get(StorageHealth);
    const records = app.get(CallRecordsRepository);
    const db = app.get<StorageDb>(KYSELY);
    try {
      await sql`drop table transcript_lines`.execute(db);
      const failure = await failureOf(
        records.appendLines([{ callId: 'c', seq: 0, speaker: 'agent', text: 'x', itemId: null, interrupted: false, placeholder: false, at: new Date() }]),
      );
      expect(failure).toMatch(/transcript_lines/);
      expect(health.failing).toBe(true);
      expect(health.lastError?.message).toMatch(/transcript_lines/);
    } finally {
      await app.close();
    }
  });

  it('refuses to start when the database cannot be reached, without printing the URL', async () => {
    const error = await boot({ DATABASE_URL: 'postgres://bridge:NotThisPassword@127.0.0.1:1/bridge', DATA_DIR: join(dir, 'unused') }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect(String(error?.message)).not.toContain('NotThisPassword');
    expect(existsSync(join(dir, 'unused'))).toBe(false);
  });

  (TEST_DATABASE_URL ? it : it.skip)('uses PostgreSQL when DATABASE_URL is set', async () => {
    const database = await createTestDatabase('postgres');
    try {
      const app = await boot({ DATABASE_URL: database.databaseUrl!, DATA_DIR: join(dir, 'not-used') });
      try {
        const db = app.get<StorageDb>(KYSELY);
        const { rows } = await sql<{ schema: string }>`select current_schema() as schema`.execute(db);
        expect(rows[0].schema).toMatch(/^t_/);
        expect(await app.get(IdempotencyStore).claim('pg', 60_000)).toBe(true);
        expect(await app.get(IdempotencyStore).claim('pg', 60_000)).toBe(false);
        expect(existsSync(join(dir, 'not-used'))).toBe(false);
      } finally {
        await app.close();
      }
    } finally {
      await database.drop();
    }
  });
});
