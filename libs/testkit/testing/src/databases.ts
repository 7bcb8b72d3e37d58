import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createPostgresDatabase, createSqliteDatabase, type StorageDb, type StorageDialect } from '#storage';

/**
 * Databases for the storage suites: SQLite always (a temporary file), PostgreSQL too when TEST_DATABASE_URL is set
 * (each database gets a fresh schema, dropped afterwards, so runs never see each other's rows).
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL?.trim() || undefined;

export const TEST_DIALECTS: StorageDialect[] = TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];

export interface TestDatabase {
  dialect: StorageDialect;
  /** The first connection (pool) to the database. */
  db: StorageDb;
  /** Another, independent connection to the same database (another replica or process). */
  connect(): StorageDb;
  /** For PostgreSQL: a DATABASE_URL that lands in this database's schema. For SQLite: the data directory. */
  databaseUrl?: string;
  dataDir?: string;
  /** Closes every connection and removes the database. */
  drop(): Promise<void>;
}

export async function createTestDatabase(dialect: StorageDialect): Promise<TestDatabase> {
  const opened: StorageDb[] = [];
  const track = (db: StorageDb) => (opened.push(db), db);
  const closeAll = () => Promise.all(opened.map((db) => db.destroy().catch(() => {})));

  if (dialect === 'sqlite') {
    const dataDir = mkdtempSync(join(tmpdir(), 'storage-test-'));
    const file = join(dataDir, 'bridge.sqlite');
    return {
      dialect,
      db: track(createSqliteDatabase(file)),
      connect: () => track(createSqliteDatabase(file)),
      dataDir,
      async drop() {
        await closeAll();
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }

  if (!TEST_DATABASE_URL) throw new Error('TEST_DATABASE_URL is not set');
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const options = `-c search_path=${schema}`;
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', options);
  const connect = () => track(createPostgresDatabase({ connectionString: TEST_DATABASE_URL, options, max: 20 }));
  return {
    dialect,
    db: connect(),
    connect,
    databaseUrl: url.toString(),
    async drop() {
      await closeAll();
      try {
        await admin.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await admin.end();
      }
    },
  };
}

/**
 * The message a promise rejects with; fails when it resolves. (Driver errors created in another realm, such as
 * better-sqlite3's SqliteError under Jest's VM modules, are not recognised by `rejects.toThrow()`.)
 */
export async function failureOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    const message = (error as { message?: unknown } | null)?.message;
    return typeof message === 'string' ? message : String(error);
  }
  throw new Error('expected the promise to reject, it resolved');
}
