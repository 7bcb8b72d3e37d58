import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { storageConfig } from './storage.config.js';
import { EnvironmentSandbox, configErrorOf } from '#testing';

const env = new EnvironmentSandbox(['DATABASE_URL', 'DATA_DIR', 'TRANSCRIPT_RETENTION_DAYS', 'STORAGE_PURGE_INTERVAL_MS']);

afterEach(() => env.restore());

describe('storageConfig', () => {
  it('defaults to SQLite in ./data, records kept forever, an hourly purge', () => {
    env.set({});
    expect(storageConfig()).toEqual({
      databaseUrl: undefined,
      dataDir: resolve('data'),
      retentionDays: undefined,
      purgeIntervalMs: 3_600_000,
    });
  });

  it('reads a PostgreSQL URL (either scheme, password, socket host or options included) and the other settings', () => {
    for (const url of [
      'postgres://bridge:s3cr%40t@db.internal:5432/bridge?sslmode=require',
      'postgresql://bridge@localhost/bridge?options=-c%20search_path%3Dbridge',
      'postgresql:///bridge?host=/var/run/postgresql',
    ]) {
      env.set({ DATABASE_URL: url, DATA_DIR: '/var/lib/bridge', TRANSCRIPT_RETENTION_DAYS: '30', STORAGE_PURGE_INTERVAL_MS: '60000' });
      expect(storageConfig()).toEqual({ databaseUrl: url, dataDir: '/var/lib/bridge', retentionDays: 30, purgeIntervalMs: 60_000 });
    }
  });

  it('names every bad variable, never the DATABASE_URL it was given', () => {
    const secret = 'mysql://root:TopSecretPassw0rd@db:3306/x';
    env.set({ DATABASE_URL: secret, TRANSCRIPT_RETENTION_DAYS: '0', STORAGE_PURGE_INTERVAL_MS: '10' });
    const error = configErrorOf(() => storageConfig());
    expect(error.problems.map((p) => p.variable).sort()).toEqual([
      'DATABASE_URL',
      'STORAGE_PURGE_INTERVAL_MS',
      'TRANSCRIPT_RETENTION_DAYS',
    ]);
    expect(error.message).toContain('DATABASE_URL: must be a postgres:// or postgresql:// URL');
    expect(error.message).not.toContain('TopSecretPassw0rd');
    expect(JSON.stringify(error.problems)).not.toContain('TopSecretPassw0rd');
  });

  it('rejects a retention that is not a whole number of days, and a URL that is not one', () => {
    for (const [variable, value] of [
      ['TRANSCRIPT_RETENTION_DAYS', '1.5'],
      ['TRANSCRIPT_RETENTION_DAYS', 'forever'],
      ['TRANSCRIPT_RETENTION_DAYS', '-3'],
      ['DATABASE_URL', 'not a url'],
      ['DATABASE_URL', 'https://db.example/'],
    ] as const) {
      env.set({ [variable]: value });
      expect(configErrorOf(() => storageConfig()).problems.map((p) => p.variable)).toEqual([variable]);
    }
  });
});
