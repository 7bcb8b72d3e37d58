import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { sql } from 'kysely';
import type { ConferenceLinks, NewConferenceLink } from './conference-links.js';
import { MemoryConferenceLinks } from './memory-conference-links.js';
import { SqlConferenceLinks } from './sql-conference-links.js';
import { StorageHealth, migrateToLatest } from '#storage';
import { TEST_DIALECTS, createTestDatabase, failureOf, type TestDatabase } from '#testing';

const T0 = new Date(Date.UTC(2020, 0, 15, 12, 0, 0));

function link(name = 'CA0001', overrides: Partial<NewConferenceLink> = {}): NewConferenceLink {
  return {
    conferenceName: name,
    callerCallSid: name,
    callerNumber: '+14155550123',
    dialledNumber: '+18005551212',
    callToken: 'tok_abc',
    createdAt: T0,
    ...overrides,
  };
}

interface Subject {
  links: ConferenceLinks;
  reset(): Promise<void>;
  drop(): Promise<void>;
}

const subjects: Array<[string, () => Promise<Subject>]> = [
  [
    'memory',
    async () => {
      const holder = { links: new MemoryConferenceLinks() as ConferenceLinks };
      return {
        get links() {
          return holder.links;
        },
        async reset() {
          holder.links = new MemoryConferenceLinks();
        },
        async drop() {},
      };
    },
  ],
  ...TEST_DIALECTS.map((dialect): [string, () => Promise<Subject>] => [
    dialect,
    async () => {
      const database = await createTestDatabase(dialect);
      await migrateToLatest(database.db, dialect);
      return {
        links: new SqlConferenceLinks(database.db, new StorageHealth()),
        reset: async () => void (await database.db.deleteFrom('conference_links').execute()),
        drop: () => database.drop(),
      };
    },
  ]),
];

describe.each(subjects)('ConferenceLinks on %s', (_name, open) => {
  let subject: Subject;
  const links = () => subject.links;

  beforeAll(async () => {
    subject = await open();
  });

  afterAll(async () => {
    await subject?.drop();
  });

  beforeEach(async () => {
    await subject.reset();
  });

  it('stores a link once per conference: a repeated voice webhook creates nothing', async () => {
    expect(await links().create(link())).toBe(true);
    expect(await links().create(link('CA0001', { callToken: 'another' }))).toBe(false);
    expect(await links().get('CA0001')).toEqual({
      conferenceName: 'CA0001',
      conferenceSid: null,
      callerCallSid: 'CA0001',
      callerNumber: '+14155550123',
      dialledNumber: '+18005551212',
      callToken: 'tok_abc',
      agentCallSid: null,
      agentStatus: 'dialing',
      openaiCallId: null,
      humanAttempt: null,
      humanCallSid: null,
      humanStatus: null,
      createdAt: T0,
      updatedAt: T0,
    });
    expect(await links().get('CA_unknown')).toBeUndefined();
  });

  it('records what Twilio tells later (conference SID, agent leg) and leaves the rest alone', async () => {
    await links().create(link());
    await links().update('CA0001', { conferenceSid: 'CF1', agentCallSid: 'CA_agent' });
    await links().update('CA0001', {});
    await links().update('CA_unknown', { conferenceSid: 'CF2' });
    const stored = await links().get('CA0001');
    expect(stored).toMatchObject({ conferenceSid: 'CF1', agentCallSid: 'CA_agent', callToken: 'tok_abc', agentStatus: 'dialing' });
    expect(stored!.updatedAt.getTime()).toBeGreaterThan(T0.getTime());
  });

  it('ties the conference to the first Realtime call that names it, and to no other', async () => {
    await links().create(link());
    expect(await links().linkOpenAICall('CA0001', 'rtc_a')).toMatchObject({ openaiCallId: 'rtc_a', callToken: 'tok_abc' });
    expect(await links().linkOpenAICall('CA0001', 'rtc_a')).toMatchObject({ openaiCallId: 'rtc_a' });
    expect(await links().linkOpenAICall('CA0001', 'rtc_b')).toBeUndefined();
    expect(await links().linkOpenAICall('CA_unknown', 'rtc_a')).toBeUndefined();
    expect((await links().get('CA0001'))!.openaiCallId).toBe('rtc_a');
  });

  it('moves the agent leg only from the statuses given, so only the first report of its end acts', async () => {
    await links().create(link());
    expect(await links().moveAgent('CA0001', ['dialing'], 'joined')).toBe(true);
    expect(await links().moveAgent('CA0001', ['dialing', 'joined'], 'left')).toBe(true);
    expect(await links().moveAgent('CA0001', ['dialing', 'joined'], 'left')).toBe(false);
    expect(await links().moveAgent('CA0001', [], 'failed')).toBe(false);
    expect(await links().moveAgent('CA_unknown', ['dialing'], 'left')).toBe(false);
    expect((await links().get('CA0001'))!.agentStatus).toBe('left');
  });

  it('dials one human at a time: a new attempt only once the last one has ended without joining', async () => {
    await links().create(link());
    expect(await links().beginHumanAttempt('CA0001', 'att_1')).toBe(true);
    expect(await links().beginHumanAttempt('CA0001', 'att_2')).toBe(false);
    expect(await links().updateHumanAttempt('CA0001', 'att_1', { callSid: 'CA_human1' })).toBe(true);
    expect(await links().updateHumanAttempt('CA0001', 'att_1', { status: 'no_answer' }, ['dialing'])).toBe(true);
    expect(await links().beginHumanAttempt('CA0001', 'att_2')).toBe(true);
    expect(await links().get('CA0001')).toMatchObject({ humanAttempt: 'att_2', humanStatus: 'dialing', humanCallSid: null });
    expect(await links().updateHumanAttempt('CA0001', 'att_2', { status: 'joined', callSid: 'CA_human2' }, ['dialing'])).toBe(true);
    expect(await links().beginHumanAttempt('CA0001', 'att_3')).toBe(false);
    expect(await links().beginHumanAttempt('CA_unknown', 'att_1')).toBe(false);
  });

  it('ignores reports about an earlier attempt, and a late status never undoes a final one', async () => {
    await links().create(link());
    await links().beginHumanAttempt('CA0001', 'att_1');
    await links().updateHumanAttempt('CA0001', 'att_1', { status: 'busy' }, ['dialing']);
    await links().beginHumanAttempt('CA0001', 'att_2');
    expect(await links().updateHumanAttempt('CA0001', 'att_1', { status: 'joined' }, ['dialing'])).toBe(false);
    expect(await links().updateHumanAttempt('CA0001', 'att_2', { status: 'joined' }, ['dialing'])).toBe(true);
    expect(await links().updateHumanAttempt('CA0001', 'att_2', { status: 'failed' }, ['dialing'])).toBe(false);
    expect(await links().updateHumanAttempt('CA0001', 'att_2', { status: 'failed' }, [])).toBe(false);
    expect(await links().get('CA0001')).toMatchObject({ humanAttempt: 'att_2', humanStatus: 'joined' });
  });

  it('deletes links created before a cutoff', async () => {
    await links().create(link('CA_old', { createdAt: new Date(T0.getTime() - 1) }));
    await links().create(link('CA_now'));
    expect(await links().deleteCreatedBefore(T0)).toBe(1);
    expect(await links().get('CA_old')).toBeUndefined();
    expect(await links().get('CA_now')).toBeDefined();
  });
});

describe.each(TEST_DIALECTS)('SqlConferenceLinks health on %s', (dialect) => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    await migrateToLatest(database.db, dialect);
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('records a failed write in StorageHealth, and the next success clears it', async () => {
    const health = new StorageHealth();
    const links = new SqlConferenceLinks(database.db, health);
    await sql`alter table conference_links rename to conference_links_away`.execute(database.db);
    try {
      expect(await failureOf(links.create(link()))).toMatch(/conference_links/);
      expect(health.failing).toBe(true);
    } finally {
      await sql`alter table conference_links_away rename to conference_links`.execute(database.db);
    }
    expect(await links.create(link())).toBe(true);
    expect(health.failing).toBe(false);
  });
});
