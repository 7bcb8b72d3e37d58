import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Migrator, sql } from 'kysely';
import type { CallQuery, NewCallRecord, TranscriptLineRecord } from './call-records.repository.js';
import type { CallEventRecord } from './call-events.js';
import { migrateToLatest, storageMigrations } from './sql/migrations.js';
import type { StorageDb } from './sql/schema.js';
import { SqlCallEvents } from './sql/sql-call-events.js';
import { PG_SEARCH, SQLITE_SEARCH, SqlCallRecordsRepository } from './sql/sql-call-records.repository.js';
import { StorageHealth } from './storage-health.js';
import { TEST_DIALECTS, createTestDatabase, type TestDatabase } from '#testing';

// The console's reads (search, last lines, timeline events, stats): every dialect must pass this suite unchanged.

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const at = (minutes: number) => new Date(T0 + minutes * 60_000);
const sec = (minutes: number, seconds: number) => new Date(T0 + minutes * 60_000 + seconds * 1000);

function newCall(callId: string, overrides: Partial<NewCallRecord> = {}): NewCallRecord {
  return {
    callId,
    profile: 'default',
    callerNumber: '+14155550100',
    dialledNumber: '+14155550199',
    forwardedFrom: null,
    fromUri: null,
    sipCallId: null,
    twilioCallSid: null,
    conferenceName: null,
    acceptedAt: at(0),
    metadata: null,
    ...overrides,
  };
}

function lines(callId: string, texts: string[], start = at(0)): TranscriptLineRecord[] {
  return texts.map((text, seq) => ({
    callId,
    seq,
    speaker: seq % 2 === 0 ? 'agent' : 'caller',
    text,
    itemId: null,
    interrupted: false,
    placeholder: false,
    at: new Date(start.getTime() + seq * 1000),
  }));
}

describe.each(TEST_DIALECTS)('console reads on %s', (dialect) => {
  let database: TestDatabase;
  let db: StorageDb;
  let repo: SqlCallRecordsRepository;
  let events: SqlCallEvents;

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    db = database.db;
    await migrateToLatest(db, dialect);
  });

  afterAll(async () => {
    await database?.drop();
  });

  beforeEach(async () => {
    for (const table of ['transcript_lines', 'calls', 'tool_invocations', 'call_events'] as const) await db.deleteFrom(table).execute();
    repo = new SqlCallRecordsRepository(db, new StorageHealth());
    events = new SqlCallEvents(db, new StorageHealth());
  });

  async function ids(query: Omit<CallQuery, 'limit'> & { limit?: number }): Promise<string[]> {
    return (await repo.listCalls({ limit: 100, ...query })).calls.map((c) => c.callId);
  }

  async function allPages(query: Omit<CallQuery, 'cursor'>): Promise<string[][]> {
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await repo.listCalls({ ...query, cursor });
      pages.push(page.calls.map((c) => c.callId));
      cursor = page.nextCursor;
      expect(pages.length).toBeLessThan(50);
    } while (cursor);
    return pages;
  }

  describe('search (q)', () => {
    beforeEach(async () => {
      await repo.write([
        { kind: 'create', record: newCall('rtc_refund', { acceptedAt: at(1) }) },
        { kind: 'lines', lines: lines('rtc_refund', ['Hello, how can I help?', 'I want a REFUND for order 4412.', 'Refunds take 3 days; your refund is on its way.']) },
        { kind: 'create', record: newCall('rtc_delivery', { acceptedAt: at(2), profile: 'sales' }) },
        { kind: 'lines', lines: lines('rtc_delivery', ['Hello!', 'Where is my delivery?', 'Your order ships today.']) },
        { kind: 'create', record: newCall('rtc_email', { acceptedAt: at(3), status: 'rejected', endedAt: at(3), endReason: 'busy' }) },
        { kind: 'lines', lines: lines('rtc_email', ['write to bob@example.com, re: the e-mail', 'café crème']) },
        { kind: 'create', record: newCall('rtc_silent', { acceptedAt: at(4) }) },
      ]);
      await repo.endCall('rtc_refund', { status: 'ended', endedAt: at(9), endReason: 'remote_closed' });
    });

    it('finds a call by a word of one of its lines, case-insensitive, as a word prefix', async () => {
      expect(await ids({ q: 'refund' })).toEqual(['rtc_refund']);
      expect(await ids({ q: 'REFUND' })).toEqual(['rtc_refund']);
      expect(await ids({ q: 'refu' })).toEqual(['rtc_refund']);
      expect(await ids({ q: 'hello' })).toEqual(['rtc_delivery', 'rtc_refund']);
      expect(await ids({ q: 'order' })).toEqual(['rtc_delivery', 'rtc_refund']);
      // Inside a word is not a match: `fund` does not start a word.
      expect(await ids({ q: 'fund' })).toEqual([]);
      expect(await ids({ q: 'nowhere' })).toEqual([]);
    });

    it('needs every word, in any lines of the call', async () => {
      expect(await ids({ q: 'hello refund' })).toEqual(['rtc_refund']);
      expect(await ids({ q: 'delivery today' })).toEqual(['rtc_delivery']);
      expect(await ids({ q: 'delivery refund' })).toEqual([]);
      expect(await ids({ q: 'hello hello HELLO' })).toEqual(['rtc_delivery', 'rtc_refund']);
    });

    it('reads punctuation as a separator in the text and in the query: e-mails, hyphens, digits', async () => {
      expect(await ids({ q: 'bob' })).toEqual(['rtc_email']);
      expect(await ids({ q: 'example com' })).toEqual(['rtc_email']);
      expect(await ids({ q: 'bob@example.com' })).toEqual(['rtc_email']);
      expect(await ids({ q: 'mail' })).toEqual(['rtc_email']);
      expect(await ids({ q: '4412' })).toEqual(['rtc_refund']);
      expect(await ids({ q: 'café' })).toEqual(['rtc_email']);
      expect(await ids({ q: 'CRÈME' })).toEqual(['rtc_email']);
    });

    it('never fails on quotes, operators or syntax of either engine', async () => {
      const nasty = [
        '"', '""', "'", "o'clock", 'refund"', '"refund', 'refund*', '*', 'NOT refund', 'refund OR hello', 'refund AND',
        'NEAR(refund hello)', 'text:refund', '{text}: refund', '-refund', '^refund', '(refund', 'refund)', 'refund & hello',
        'refund | hello', '!refund', 'refund:*', "refund:* & 'x'", '\\', '%', '_', ';drop table calls;--', '\u0000refund',
        'a'.repeat(500), Array.from({ length: 40 }, (_, i) => `w${i}`).join(' '),
      ];
      for (const q of nasty) await expect(repo.listCalls({ limit: 10, q })).resolves.toBeDefined();
      // The operators are only separators: the words left are searched.
      expect(await ids({ q: 'NEAR(refund hello)' })).toEqual([]); // `near` is a word too, and no line has it
      expect(await ids({ q: '"refund" NOT' })).toEqual([]); // `not` is a word no line has
      expect(await ids({ q: '(refund)*' })).toEqual(['rtc_refund']);
      expect(await ids({ q: 'refund & hello' })).toEqual(['rtc_refund']);
    });

    it('treats a query without a word (empty, only punctuation) as no search', async () => {
      const everything = ['rtc_silent', 'rtc_email', 'rtc_delivery', 'rtc_refund'];
      for (const q of ['', '   ', '?!', '"*"', '&|:()']) {
        const page = await repo.listCalls({ limit: 10, q });
        expect(page.calls.map((c) => c.callId)).toEqual(everything);
        expect(page.calls.every((c) => c.match === undefined)).toBe(true);
      }
    });

    it("gives each call its best line (most words, then first) and the ranges of the query's words", async () => {
      const [refund] = (await repo.listCalls({ limit: 10, q: 'refund' })).calls;
      // Line 1 and line 2 both have `refund`: the first is shown.
      expect(refund.match).toEqual({
        seq: 1,
        speaker: 'caller',
        text: 'I want a REFUND for order 4412.',
        interrupted: false,
        placeholder: false,
        at: sec(0, 1),
        highlights: [[9, 15]],
      });
      const [both] = (await repo.listCalls({ limit: 10, q: 'refund way' })).calls;
      // Line 2 has both words; every word a query word starts is highlighted (`Refunds`, `refund`, `way`).
      expect(both.match).toMatchObject({ seq: 2, highlights: [[0, 7], [26, 32], [43, 46]] });
      const text = both.match!.text;
      expect(both.match!.highlights.map(([s, e]) => text.slice(s, e))).toEqual(['Refunds', 'refund', 'way']);
      const [email] = (await repo.listCalls({ limit: 10, q: 'e mail' })).calls;
      expect(email.match!.highlights.map(([s, e]) => email.match!.text.slice(s, e))).toEqual(['example', 'e', 'mail']);
      expect((await repo.listCalls({ limit: 10 })).calls.every((c) => c.match === undefined)).toBe(true);
    });

    it('combines with the other filters', async () => {
      expect(await ids({ q: 'hello', profile: 'sales' })).toEqual(['rtc_delivery']);
      expect(await ids({ q: 'hello', state: 'ended' })).toEqual(['rtc_refund']);
      expect(await ids({ q: 'hello', state: 'live' })).toEqual(['rtc_delivery']);
      expect(await ids({ q: 'hello', endReason: 'remote_closed' })).toEqual(['rtc_refund']);
      expect(await ids({ q: 'hello', from: at(2) })).toEqual(['rtc_delivery']);
      expect(await ids({ q: 'hello', to: at(2) })).toEqual(['rtc_refund']);
      expect(await ids({ q: 'bob', number: '+14155550100', state: 'ended', endReason: 'busy' })).toEqual(['rtc_email']);
      expect(await ids({ q: 'bob', number: '+19999999999' })).toEqual([]);
    });

    it('forgets a purged call', async () => {
      expect(await repo.purgeEndedBefore(at(60))).toBe(2);
      expect(await ids({ q: 'refund' })).toEqual([]);
      expect(await ids({ q: 'hello' })).toEqual(['rtc_delivery']);
    });
  });

  describe('state and endReason filters', () => {
    beforeEach(async () => {
      for (let i = 0; i < 12; i++) {
        const callId = `rtc_${String(i).padStart(2, '0')}`;
        const status = i % 3 === 0 ? 'active' : i % 3 === 1 ? 'ended' : 'rejected';
        await repo.createCall(
          newCall(callId, {
            acceptedAt: at(i % 4), // several calls per instant: the call id breaks ties
            status,
            endedAt: status === 'active' ? null : at(10),
            endReason: status === 'active' ? null : status === 'ended' ? (i % 2 === 0 ? 'transferred' : 'remote_closed') : 'busy',
          }),
        );
      }
    });
    const newestFirst = ['rtc_11', 'rtc_07', 'rtc_03', 'rtc_10', 'rtc_06', 'rtc_02', 'rtc_09', 'rtc_05', 'rtc_01', 'rtc_08', 'rtc_04', 'rtc_00'];

    it('live: active calls; ended: every other status; and paginates with either', async () => {
      const live = newestFirst.filter((id) => Number(id.slice(4)) % 3 === 0);
      const ended = newestFirst.filter((id) => Number(id.slice(4)) % 3 !== 0);
      expect((await allPages({ limit: 2, state: 'live' })).flat()).toEqual(live);
      expect((await allPages({ limit: 3, state: 'ended' })).flat()).toEqual(ended);
      expect((await allPages({ limit: 5 })).flat()).toEqual(newestFirst);
      expect(await allPages({ limit: 3, state: 'ended' })).toHaveLength(3);
    });

    it('endReason: exactly that reason', async () => {
      expect(await ids({ endReason: 'busy' })).toEqual(['rtc_11', 'rtc_02', 'rtc_05', 'rtc_08']);
      expect((await allPages({ limit: 1, endReason: 'transferred' })).flat()).toEqual(['rtc_10', 'rtc_04']);
      expect(await ids({ endReason: 'busy', state: 'live' })).toEqual([]);
    });

    it('searches page by page, many calls matching', async () => {
      for (let i = 0; i < 12; i++) {
        const callId = `rtc_${String(i).padStart(2, '0')}`;
        await repo.appendLines(lines(callId, i % 2 === 0 ? ['even call, blue'] : ['odd call', 'blue sky']));
      }
      const even = newestFirst.filter((id) => Number(id.slice(4)) % 2 === 0);
      expect((await allPages({ limit: 2, q: 'blue' })).flat()).toEqual(newestFirst);
      expect((await allPages({ limit: 2, q: 'call even' })).flat()).toEqual(even);
      expect((await allPages({ limit: 1, q: 'blue', state: 'ended' })).flat()).toEqual(
        newestFirst.filter((id) => Number(id.slice(4)) % 3 !== 0),
      );
      const first = await repo.listCalls({ limit: 4, q: 'blue sky' });
      expect(first.calls.map((c) => c.callId)).toEqual(newestFirst.filter((id) => Number(id.slice(4)) % 2 === 1).slice(0, 4));
      expect(first.calls.every((c) => c.match?.seq === 1 && c.match.text === 'blue sky')).toBe(true);
    });
  });

  describe('search across many calls', () => {
    // Enough calls that a page of common words and one of rare words come from different parts of the index.
    const N = 2300;
    const id = (i: number) => `rtc_${String(i).padStart(5, '0')}`;
    beforeEach(async () => {
      const calls = Array.from({ length: N }, (_, i) => ({ call_id: id(i), status: i % 2 === 0 ? 'active' : 'ended', accepted_at: T0 + i * 1000 }));
      const rows = calls.flatMap((c, i) => [
        { call_id: c.call_id, seq: 0, speaker: 'agent', text: 'hello there', at: c.accepted_at, interrupted: 0, placeholder: 0, item_id: null },
        { call_id: c.call_id, seq: 1, interrupted: 0, placeholder: 0, item_id: null, speaker: 'caller', text: i % 500 === 7 ? 'a rare zebra' : i % 3 === 0 ? 'common words' : 'other words', at: c.accepted_at + 1 },
      ]);
      for (let i = 0; i < calls.length; i += 200) await db.insertInto('calls').values(calls.slice(i, i + 200)).execute();
      for (let i = 0; i < rows.length; i += 400) await db.insertInto('transcript_lines').values(rows.slice(i, i + 400)).execute();
    });

    it('pages newest first through rare and common words, alone and with filters', async () => {
      const all = Array.from({ length: N }, (_, i) => id(N - 1 - i));
      const rare = all.filter((c) => Number(c.slice(4)) % 500 === 7);
      expect((await allPages({ limit: 2, q: 'zebra' })).flat()).toEqual(rare);
      expect((await allPages({ limit: 100, q: 'zebra rare hello' })).flat()).toEqual(rare);
      expect((await allPages({ limit: 2, q: 'zebra', state: 'ended' })).flat()).toEqual(rare.filter((c) => Number(c.slice(4)) % 2 === 1));
      const common = all.filter((c) => Number(c.slice(4)) % 3 === 0 && Number(c.slice(4)) % 500 !== 7);
      expect((await allPages({ limit: 100, q: 'common' })).flat()).toEqual(common);
      expect((await repo.listCalls({ limit: 3, q: 'hello', to: new Date(T0 + 100_000) })).calls.map((c) => c.callId)).toEqual([id(99), id(98), id(97)]);
      expect((await allPages({ limit: 100, q: 'zebra common' })).flat()).toEqual([]); // no call has both
    });

    it.each([
      ['the statistics', 20_000],
      ['the lines read from the index', 4],
    ])('finds the same calls when words are checked on the lines and each page may stop early (PostgreSQL: common by %s)', async (_, pgIndexedLines) => {
      const saved = { ...SQLITE_SEARCH };
      const savedPg = { ...PG_SEARCH };
      Object.assign(SQLITE_SEARCH, { indexedLines: 1, fetchKeys: 3, batch: 50, scanBudget: 300 });
      // PostgreSQL checks the words its statistics call common (here all but `zebra` and `rare`) on the lines too, and
      // with PG_SEARCH.indexedLines 4 also `zebra` and `rare` (5 lines each), found in more lines than that.
      Object.assign(PG_SEARCH, { indexedLines: pgIndexedLines });
      if (dialect === 'postgres') await sql`analyze transcript_lines`.execute(db);
      try {
        const all = Array.from({ length: N }, (_, i) => id(N - 1 - i));
        const rare = all.filter((c) => Number(c.slice(4)) % 500 === 7);
        const common = all.filter((c) => Number(c.slice(4)) % 3 === 0 && Number(c.slice(4)) % 500 !== 7);
        const pages = await allPages({ limit: 2, q: 'zebra' });
        expect(pages.flat()).toEqual(rare);
        if (dialect === 'sqlite') expect(pages.some((page) => page.length < 2 && page !== pages.at(-1))).toBe(true);
        expect((await allPages({ limit: 100, q: 'zebra rare hello' })).flat()).toEqual(rare);
        expect((await allPages({ limit: 100, q: 'common hello' })).flat()).toEqual(common);
        expect((await allPages({ limit: 100, q: 'hello', state: 'ended' })).flat()).toEqual(all.filter((c) => Number(c.slice(4)) % 2 === 1));
        expect((await allPages({ limit: 100, q: 'zebra common' })).flat()).toEqual([]);
        expect((await allPages({ limit: 1, q: 'rare hello', state: 'ended' })).flat()).toEqual(rare.filter((c) => Number(c.slice(4)) % 2 === 1));
      } finally {
        Object.assign(SQLITE_SEARCH, saved);
        Object.assign(PG_SEARCH, savedPg);
      }
    });
  });

  describe('lastLines', () => {
    it("gives each call's highest-seq line, whatever order the lines arrived in", async () => {
      await repo.appendLines([...lines('rtc_a', ['one', 'two', 'three']).reverse(), ...lines('rtc_b', ['only'])]);
      const last = await repo.lastLines(['rtc_a', 'rtc_b', 'rtc_none', 'rtc_a']);
      expect([...last.keys()].sort()).toEqual(['rtc_a', 'rtc_b']);
      expect(last.get('rtc_a')).toMatchObject({ seq: 2, text: 'three', speaker: 'agent', at: sec(0, 2) });
      expect(last.get('rtc_b')).toMatchObject({ seq: 0, text: 'only' });
      expect((await repo.lastLines([])).size).toBe(0);
    });
  });

  describe('call events', () => {
    const event = (callId: string, eventId: string, kind: CallEventRecord['kind'], when: Date, data: Record<string, unknown>): CallEventRecord => ({
      callId,
      eventId,
      kind,
      at: when,
      data,
    });

    it('stores each (call, eventId) once and reads them by time, then in the order they were appended', async () => {
      await events.append([
        event('rtc_e', 'dtmf-2', 'dtmf', sec(0, 5), { key: '2' }),
        event('rtc_e', 'dtmf-1', 'dtmf', sec(0, 5), { key: '1', action: 'menu' }),
        event('rtc_e', 'err-1', 'error', sec(0, 1), { message: 'boom' }),
        event('rtc_other', 'dtmf-1', 'dtmf', sec(0, 0), { key: '9' }),
      ]);
      await events.append([
        event('rtc_e', 'dtmf-1', 'dtmf', sec(0, 0), { key: 'changed' }),
        event('rtc_e', 'xfer-1', 'transfer', sec(0, 9), { attempt: 'a1', status: 'dialing' }),
      ]);
      await events.append([]);
      expect(await events.forCall('rtc_e')).toEqual([
        event('rtc_e', 'err-1', 'error', sec(0, 1), { message: 'boom' }),
        event('rtc_e', 'dtmf-2', 'dtmf', sec(0, 5), { key: '2' }),
        event('rtc_e', 'dtmf-1', 'dtmf', sec(0, 5), { key: '1', action: 'menu' }),
        event('rtc_e', 'xfer-1', 'transfer', sec(0, 9), { attempt: 'a1', status: 'dialing' }),
      ]);
      expect(await events.forCall('rtc_other')).toHaveLength(1);
      expect(await events.forCall('rtc_none')).toEqual([]);
    });

    it('takes batches larger than one statement, and the same event twice in one batch', async () => {
      const many = Array.from({ length: 450 }, (_, i) => event('rtc_many', `e${i}`, 'dtmf', sec(0, i), { key: String(i % 10) }));
      await events.append([...many, many[3]]);
      expect((await events.forCall('rtc_many')).map((e) => e.eventId)).toEqual(many.map((e) => e.eventId));
    });

    it('are purged with their call', async () => {
      await repo.createCall(newCall('rtc_old'));
      await repo.endCall('rtc_old', { status: 'ended', endedAt: at(1), endReason: 'remote_closed' });
      await repo.createCall(newCall('rtc_live'));
      await events.append([event('rtc_old', 'a', 'dtmf', at(0), { key: '1' }), event('rtc_live', 'a', 'dtmf', at(0), { key: '1' })]);
      expect(await repo.purgeEndedBefore(at(5))).toBe(1);
      expect(await events.forCall('rtc_old')).toEqual([]);
      expect(await events.forCall('rtc_live')).toHaveLength(1);
    });
  });

  describe('stats', () => {
    const window = { from: at(0), to: at(180), bucketMs: 60 * 60_000, durationBoundsSeconds: [30, 120, 600] };

    beforeEach(async () => {
      const call = async (callId: string, acceptedMinute: number, end: { status: 'ended' | 'failed' | 'rejected'; seconds: number; reason: string } | null, firstAgentSeconds?: number) => {
        const acceptedAt = at(acceptedMinute);
        await repo.createCall(newCall(callId, { acceptedAt, ...(end?.status === 'rejected' ? { status: 'rejected', endedAt: acceptedAt, endReason: end.reason } : {}) }));
        if (end && end.status !== 'rejected') {
          await repo.endCall(callId, { status: end.status, endedAt: new Date(acceptedAt.getTime() + end.seconds * 1000), endReason: end.reason });
        }
        if (firstAgentSeconds !== undefined) {
          // A caller line first, then two agent lines: the first agent line counts.
          await repo.appendLines([
            { ...lines(callId, ['hi'])[0], speaker: 'caller', at: acceptedAt },
            { ...lines(callId, ['', 'hello'])[1], speaker: 'agent', at: new Date(acceptedAt.getTime() + firstAgentSeconds * 1000) },
            { ...lines(callId, ['', '', 'more'])[2], speaker: 'agent', at: new Date(acceptedAt.getTime() + 99_000) },
          ]);
        }
      };
      await call('rtc_1', 5, { status: 'ended', seconds: 10, reason: 'remote_closed' }, 1);
      await call('rtc_2', 10, { status: 'ended', seconds: 60, reason: 'transferred' }, 2);
      await call('rtc_3', 59, { status: 'rejected', seconds: 0, reason: 'busy' });
      await call('rtc_4', 60, { status: 'failed', seconds: 700, reason: 'error' }, 3);
      await call('rtc_5', 130, null, 4);
      await call('rtc_6', 179, { status: 'ended', seconds: 120, reason: 'transferred' });
      // Outside the window (to is exclusive).
      await call('rtc_out', 180, { status: 'ended', seconds: 5, reason: 'remote_closed' }, 0.5);
      await call('rtc_before', -1, { status: 'ended', seconds: 5, reason: 'remote_closed' }, 0.5);
      // An ended call without an end reason is counted by its status.
      await db.insertInto('calls').values({ call_id: 'rtc_raw', status: 'failed', accepted_at: at(61).getTime(), ended_at: at(62).getTime() }).execute();
    });

    it('counts outcomes per bucket, durations, the transfer rate and the p95 of the first agent line', async () => {
      expect(await repo.stats(window)).toEqual({
        from: at(0),
        to: at(180),
        bucketMs: 3_600_000,
        buckets: [
          { start: at(0), outcomes: { remote_closed: 1, transferred: 1, busy: 1 } },
          { start: at(60), outcomes: { error: 1, failed: 1 } },
          { start: at(120), outcomes: { live: 1, transferred: 1 } },
        ],
        // 0 s (the rejected call), 10 s | 60 s, 60 s (raw) | 120 s | 700 s; the live call has no duration.
        durations: { boundsSeconds: [30, 120, 600], counts: [2, 2, 1, 1] },
        total: 7,
        transferRate: 2 / 6,
        // 1, 2, 3, 4 s: nearest rank p95 is the 4th.
        firstAgentLineP95Ms: 4000,
      });
    });

    it('gives empty buckets, a zero rate and no p95 for a window without calls', async () => {
      const empty = await repo.stats({ ...window, from: at(1000), to: at(1120) });
      expect(empty.buckets).toEqual([
        { start: at(1000), outcomes: {} },
        { start: at(1060), outcomes: {} },
      ]);
      expect(empty).toMatchObject({ total: 0, transferRate: 0, firstAgentLineP95Ms: null, durations: { counts: [0, 0, 0, 0] } });
    });
  });

  it('indexes the lines stored before the search migration', async () => {
    const fresh = await createTestDatabase(dialect);
    try {
      const schema =
        dialect === 'postgres' ? (await sql<{ schema: string }>`select current_schema() as schema`.execute(fresh.db)).rows[0].schema : undefined;
      const migrator = new Migrator({
        db: fresh.db,
        provider: { getMigrations: async () => storageMigrations(dialect) },
        ...(schema ? { migrationTableSchema: schema } : {}),
      });
      expect((await migrator.migrateTo('0003_outbox_leases')).error).toBeUndefined();
      await sql`insert into calls (call_id, status, accepted_at) values ('rtc_before', 'active', ${T0})`.execute(fresh.db);
      await sql`insert into transcript_lines (call_id, seq, speaker, text, at) values ('rtc_before', 0, 'caller', 'An old invoice', ${T0})`.execute(fresh.db);
      const upgrade = await migrator.migrateTo('0004_console_search_events');
      expect(upgrade.error).toBeUndefined();
      expect(upgrade.results?.map((r) => r.migrationName)).toEqual(['0004_console_search_events']);
      // And those stored before the later search migrations (0006's prefix index, 0007's stored words).
      expect((await migrator.migrateTo('0006_search_prefix_index')).error).toBeUndefined();
      await sql`insert into calls (call_id, status, accepted_at) values ('rtc_between', 'active', ${T0 + 1})`.execute(fresh.db);
      await sql`insert into transcript_lines (call_id, seq, speaker, text, at) values ('rtc_between', 0, 'caller', 'A newer invoice-receipt', ${T0 + 1})`.execute(fresh.db);
      const latest = await migrateToLatest(fresh.db, dialect);
      expect(latest.every((r) => r.status === 'Success')).toBe(true);
      const old = new SqlCallRecordsRepository(fresh.db, new StorageHealth());
      expect((await old.listCalls({ limit: 5, q: 'invoice' })).calls.map((c) => c.callId)).toEqual(['rtc_between', 'rtc_before']);
      expect((await old.listCalls({ limit: 5, q: 'receipt' })).calls.map((c) => c.callId)).toEqual(['rtc_between']);
      expect((await old.listCalls({ limit: 5, q: 'old invoice' })).calls.map((c) => c.callId)).toEqual(['rtc_before']);
    } finally {
      await fresh.drop();
    }
  });
});
