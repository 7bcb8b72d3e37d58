import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from './migrations.js';
import { SqliteCheckpointer } from './sqlite-checkpointer.js';
import type { StorageDb, StorageDialect } from './schema.js';

export const SQLITE_FILE_NAME = 'bridge.sqlite';
const SQLITE_BUSY_TIMEOUT_MS = 5000;
const PG_INT8 = 20;

export interface OpenedStorage {
  db: StorageDb;
  dialect: StorageDialect;
  /** Where the data lives, safe to log: the SQLite path, or just "PostgreSQL" (never the URL: it holds a password). */
  description: string;
}

/**
 * The embedded database: one file, WAL so readers never wait for the writer, a busy timeout for other processes.
 * With `onCheckpointError`, checkpoints run on a worker thread (`SqliteCheckpointer`), not on the event loop; the
 * service does this, while tests that open many short-lived databases leave it to SQLite.
 */
export function createSqliteDatabase(file: string, options: { onCheckpointError?: (error: Error) => void } = {}): StorageDb {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const database = new Database(file);
  let checkpointer: SqliteCheckpointer | undefined;
  try {
    database.pragma('journal_mode = WAL');
    database.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    // Durable at every checkpoint and crash-safe in WAL mode; only the last transactions can be lost on power loss.
    database.pragma('synchronous = NORMAL');
    if (options.onCheckpointError && file !== ':memory:') {
      checkpointer = new SqliteCheckpointer(database, file, SQLITE_BUSY_TIMEOUT_MS, options.onCheckpointError);
    }
  } catch (error) {
    database.close();
    throw error;
  }
  return new Kysely<any>({ dialect: new SqliteDialect({ database: withStatementCache(database, () => void checkpointer?.stop()) }) });
}

/** Distinct SQL texts kept prepared: the service issues a few dozen; the bound only guards against surprises. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely's SQLite driver prepares every query again; preparing costs more than running the small statements this
 * service issues (the accept path's claims, the record writes). Statements are reused by SQL text. Kysely runs one
 * query at a time on its single connection, so a cached statement is never busy when it is handed out again.
 */
function withStatementCache(database: Database.Database, beforeClose: () => void): SqliteDatabase {
  const statements = new Map<string, Database.Statement>();
  return {
    close: () => {
      beforeClose();
      database.close();
    },
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = database.prepare(sql);
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
        statements.set(sql, statement);
      }
      return statement;
    },
  };
}

/** Keeps BIGINT (epoch milliseconds, counts, ids) as JavaScript numbers, as SQLite returns them. */
const INT8_AS_NUMBER: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === PG_INT8 ? Number : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * A pooled PostgreSQL database. `onIdleError` receives errors of idle pooled connections (a server restart, a
 * network cut): without a listener they would crash the process; the pool replaces the connection by itself.
 */
export function createPostgresDatabase(config: pg.PoolConfig, onIdleError: (error: Error) => void = () => {}): StorageDb {
  const pool = new pg.Pool({
    max: 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30_000,
    ...config,
    types: INT8_AS_NUMBER,
  });
  pool.on('error', onIdleError);
  return new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
}

/** What the database meets in the background, where no caller can hear it: the service logs it. */
export interface StorageBackgroundErrors {
  /** PostgreSQL: an idle pooled connection failed (the pool replaces it). */
  onIdleError?: (error: Error) => void;
  /** SQLite: the checkpoint worker failed (checkpoints are back on the event loop). */
  onCheckpointError?: (error: Error) => void;
}

/**
 * Opens the database the configuration names (PostgreSQL when `databaseUrl` is set, else `<dataDir>/bridge.sqlite`,
 * checkpointed on a worker thread) and brings its schema up to date.
 */
export async function openStorage(
  config: { databaseUrl?: string; dataDir: string },
  { onIdleError, onCheckpointError = () => {} }: StorageBackgroundErrors = {},
): Promise<OpenedStorage> {
  const opened: OpenedStorage = config.databaseUrl
    ? {
        db: createPostgresDatabase({ connectionString: config.databaseUrl }, onIdleError),
        dialect: 'postgres',
        description: 'PostgreSQL (DATABASE_URL)',
      }
    : (() => {
        const file = join(config.dataDir, SQLITE_FILE_NAME);
        return { db: createSqliteDatabase(file, { onCheckpointError }), dialect: 'sqlite' as const, description: `SQLite ${file}` };
      })();
  try {
    await migrateToLatest(opened.db, opened.dialect);
  } catch (error) {
    await opened.db.destroy().catch(() => {});
    throw error;
  }
  return opened;
}
