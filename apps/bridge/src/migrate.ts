/**
 * `node dist/apps/bridge/src/migrate.js` (`npm run migrate`): brings the storage schema up to date and exits. The
 * bridge migrates at start-up too; this runs a long migration where no probe can restart it (a Kubernetes init
 * container, or a one-off job before a rollout). Replicas or jobs running it together wait on the migrator's lock.
 * Reads DATABASE_URL and DATA_DIR only (and a .env file, as the bridge does).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ConfigValidationError } from '#config';
import { errorMessage } from '#resilience';
import { createPostgresDatabase, createSqliteDatabase, migrateToLatest, SQLITE_FILE_NAME, storageConfig } from '#storage';

if (existsSync('.env')) process.loadEnvFile('.env');

try {
  const config = storageConfig();
  const [db, dialect, where] = config.databaseUrl
    ? [createPostgresDatabase({ connectionString: config.databaseUrl }), 'postgres' as const, 'PostgreSQL (DATABASE_URL)']
    : [createSqliteDatabase(join(config.dataDir, SQLITE_FILE_NAME)), 'sqlite' as const, `SQLite ${join(config.dataDir, SQLITE_FILE_NAME)}`];
  const started = performance.now();
  try {
    const results = await migrateToLatest(db, dialect);
    const applied = results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      applied.length > 0 ? `storage schema of ${where} migrated in ${seconds} s: ${applied.join(', ')}` : `storage schema of ${where} is up to date`,
    );
  } finally {
    await db.destroy();
  }
} catch (error) {
  console.error(error instanceof ConfigValidationError ? error.message : `The storage migration failed: ${errorMessage(error)}`);
  process.exit(1);
}
