import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { createSqliteDatabase } from './database.js';
import { BACKSTOP_PAGES, SqliteCheckpointer } from './sqlite-checkpointer.js';
import { waitUntil } from '#testing';

describe('SqliteCheckpointer', () => {
  const dirs: string[] = [];
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function walDatabase(): { file: string; database: Database.Database } {
    const dir = mkdtempSync(join(tmpdir(), 'checkpointer-'));
    dirs.push(dir);
    const file = join(dir, 'db.sqlite');
    const database = new Database(file);
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    cleanups.push(() => database.open && database.close());
    return { file, database };
  }

  const autocheckpoint = (database: Database.Database) => database.pragma('wal_autocheckpoint', { simple: true });

  it("copies the WAL back into the database file on its worker, leaving the connection's own checkpoint as a far backstop", async () => {
    const { file, database } = walDatabase();
    const errors: Error[] = [];
    const checkpointer = new SqliteCheckpointer(database, file, 1000, (error) => errors.push(error), 20);
    cleanups.push(() => checkpointer.stop());
    expect(autocheckpoint(database)).toBe(BACKSTOP_PAGES);

    const insert = database.prepare('INSERT INTO t (v) VALUES (?)');
    for (let i = 0; i < 500; i++) insert.run('x'.repeat(500));
    // Far below the backstop, so only the worker can have checkpointed these pages.
    await waitUntil(() => (checkpointer.stats.pages > 0 ? true : undefined));
    expect(checkpointer.stats.checkpoints).toBeGreaterThan(0);
    expect(statSync(file).size).toBeGreaterThan(500 * 500); // the rows are in the database file itself

    await checkpointer.stop();
    expect(errors).toEqual([]);
    // The connection works on after the worker has gone.
    insert.run('after');
    expect(database.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 501 });
  });

  it('puts SQLite’s own checkpoint back and says why when its worker fails', async () => {
    const { database } = walDatabase();
    const errors: Error[] = [];
    // The worker opens its file with fileMustExist: a missing one fails it at once.
    const checkpointer = new SqliteCheckpointer(database, join(dirs[0], 'missing.sqlite'), 1000, (error) => errors.push(error), 20);
    cleanups.push(() => checkpointer.stop());
    const error = await waitUntil(() => errors[0]);
    expect(error.message).toMatch(/unable to open database file/);
    expect(autocheckpoint(database)).toBe(1000);
    expect(errors).toHaveLength(1); // its error and its exit are one failure
  });

  it("is how the service's SQLite database checkpoints, and stops when the database is destroyed", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'checkpointer-'));
    dirs.push(dir);
    const errors: Error[] = [];
    const db = createSqliteDatabase(join(dir, 'bridge.sqlite'), { onCheckpointError: (error) => errors.push(error) });
    const { rows } = await sql<{ wal_autocheckpoint: number }>`PRAGMA wal_autocheckpoint`.execute(db);
    expect(rows[0].wal_autocheckpoint).toBe(BACKSTOP_PAGES);
    await db.destroy(); // stops the worker: nothing is left running for this suite to wait on
    expect(errors).toEqual([]);

    const plain = createSqliteDatabase(join(dir, 'plain.sqlite'));
    const { rows: plainRows } = await sql<{ wal_autocheckpoint: number }>`PRAGMA wal_autocheckpoint`.execute(plain);
    expect(plainRows[0].wal_autocheckpoint).toBe(1000);
    await plain.destroy();
  });
});
