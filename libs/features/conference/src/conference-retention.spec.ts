import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { conferenceLinksPurge } from './conference-retention.js';
import { SqlConferenceLinks } from './sql-conference-links.js';
import { RetentionPurger, SqlIdempotencyStore, StorageHealth, migrateToLatest, type CallRecordsRepository } from '#storage';
import { createTestDatabase, type TestDatabase } from '#testing';

const NOW = new Date(Date.UTC(2026, 5, 1));

describe('conference links in the storage purge', () => {
  let database: TestDatabase;
  let links: SqlConferenceLinks;
  let purger: RetentionPurger;

  beforeAll(async () => {
    database = await createTestDatabase('sqlite');
    await migrateToLatest(database.db, 'sqlite');
    links = new SqlConferenceLinks(database.db, new StorageHealth());
    purger = new RetentionPurger(
      { databaseUrl: undefined, dataDir: database.dataDir!, retentionDays: undefined, purgeIntervalMs: 3_600_000 },
      {} as CallRecordsRepository,
      new SqlIdempotencyStore(database.db, new StorageHealth()),
    );
    purger.register(conferenceLinksPurge(links));
  });

  afterAll(async () => {
    purger.onModuleDestroy();
    await database.drop();
  });

  beforeEach(async () => {
    await database.db.deleteFrom('conference_links').execute();
  });

  it('deletes Twilio conference links a day after they were created (a caller number and CallToken each)', async () => {
    const link = (name: string, hoursAgo: number) => ({
      conferenceName: name,
      callerCallSid: name,
      callerNumber: '+14155550123',
      dialledNumber: null,
      callToken: 'token',
      createdAt: new Date(NOW.getTime() - hoursAgo * 60 * 60 * 1000),
    });
    await links.create(link('CA_old', 25));
    await links.create(link('CA_recent', 23));
    expect(await purger.runOnce(NOW)).toEqual({ claims: 0, conferenceLinks: 1 });
    expect(await links.get('CA_old')).toBeUndefined();
    expect(await links.get('CA_recent')).toBeDefined();
  });
});
