import { describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import { migrateToLatest } from './migrations.js';
import { TEST_DATABASE_URL, createTestDatabase } from '#testing';

const postgres = TEST_DATABASE_URL ? describe : describe.skip;

postgres('migrateToLatest on PostgreSQL', () => {
  it("migrates its own schema when another schema of the database already has Kysely's migration tables", async () => {
    const other = await createTestDatabase('postgres');
    const ours = await createTestDatabase('postgres');
    try {
      await migrateToLatest(other.db, 'postgres'); // another service (or replica set) on the same database
      const results = await migrateToLatest(ours.db, 'postgres');
      expect(results.length).toBeGreaterThan(0);
      expect(results.every((result) => result.status === 'Success')).toBe(true);
      const { rows } = await sql<{ n: string }>`select count(*) as n from kysely_migration`.execute(ours.db);
      expect(Number(rows[0].n)).toBe(results.length);
    } finally {
      await ours.drop();
      await other.drop();
    }
  });
});
