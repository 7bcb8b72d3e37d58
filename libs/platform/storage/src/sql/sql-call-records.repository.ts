import { Inject, Injectable } from '@nestjs/common';
import { PostgresAdapter, sql, type ExpressionBuilder, type SelectQueryBuilder, type Selectable } from 'kysely';
import {
  CallRecordsRepository,
  type CallPage,
  type CallEnd,
  type CallQuery,
  type CallRecord,
  type CallRecordWrite,
  type CallStats,
  type CallStatus,
  type CallSummaryRecord,
  type LineMatch,
  type NewCallRecord,
  type StatsWindow,
  type Speaker,
  type TranscriptLineRecord,
} from '../call-records.repository.js';
import { StorageHealth } from '../storage-health.js';
import { KYSELY } from '../storage.tokens.js';
import { CompiledOnce } from './compiled-once.js';
import type { CallsTable, StorageDb, StorageSchema, TranscriptLinesTable } from './schema.js';
import { collectWords, fts5PrefixTerm, matchLine, searchWords, tsAnyPrefix, tsPrefixTerm } from './search-terms.js';

/** Rows per INSERT: far below SQLite's and PostgreSQL's bound-parameter limits. */
const LINE_BATCH = 500;
/** Calls per purge transaction, so a first purge of years of data never holds a long lock. */
const PURGE_BATCH = 500;
/** The largest page listCalls returns, whatever is asked. */
export const MAX_PAGE_SIZE = 1000;

/** SQLite: an FTS5 row id is `key * LINE_SPAN + seq` (migration 0004). */
const LINE_SPAN = 1_048_576;
/**
 * SQLite search bounds: a word in at most `indexedLines` lines selects its calls through the FTS5 index (a commoner
 * one is checked on the candidates' lines); up to `fetchKeys` candidates are fetched by key (more are found by reading
 * the calls newest first, `batch` at a time); a page stops after `scanBudget` calls read. Mutable for tests only.
 */
export const SQLITE_SEARCH = { indexedLines: 20_000, fetchKeys: 2_000, batch: 200, scanBudget: 5_000 };
/** PostgreSQL search: a word starting terms of this share of lines is checked on the candidates' lines. */
const PG_COMMON_SHARE = 0.003;
/**
 * PostgreSQL search: a word read from the index in more lines than `indexedLines` (its statistics said it was rarer,
 * or there are none yet) is checked on the candidates' lines instead. Mutable for tests only.
 */
export const PG_SEARCH = { indexedLines: 20_000 };
const PG_STATS_TTL_MS = 60_000;
/**
 * The columns of a line that are read back (not PostgreSQL's `words`, migration 0007, which only the search reads, in
 * the database).
 */
const LINE_COLUMNS = ['call_id', 'seq', 'speaker', 'text', 'item_id', 'interrupted', 'placeholder', 'at'] as const satisfies ReadonlyArray<keyof TranscriptLinesTable>;
type CallsSelect = SelectQueryBuilder<StorageSchema, 'calls', Selectable<CallsTable>>;

/** A `cursor` that listCalls did not produce (a RangeError, so callers can answer 400). */
export class InvalidCursorError extends RangeError {
  constructor() {
    super('cursor is not valid');
    this.name = 'InvalidCursorError';
  }
}

/** Every column of a call's row, in the order INSERT_CALL takes their values. */
const CALL_COLUMNS = [
  'call_id', 'status', 'profile', 'caller_number', 'dialled_number', 'forwarded_from', 'from_uri', 'sip_call_id',
  'twilio_call_sid', 'conference_name', 'accepted_at', 'ended_at', 'end_reason', 'metadata',
] as const satisfies ReadonlyArray<keyof CallsTable>;

/** A new call's row, once (a repeated accept of the same call changes nothing): every column's value, null if none. */
const INSERT_CALL = new CompiledOnce((db: StorageDb, ...values: unknown[]) =>
  db
    .insertInto('calls')
    .values(Object.fromEntries(CALL_COLUMNS.map((column, i) => [column, values[i]])) as unknown as Selectable<CallsTable>)
    .onConflict((oc) => oc.column('call_id').doNothing()),
);

/** Ends a call that has not ended: (callId, status, endedAt, endReason). */
const END_CALL = new CompiledOnce((db: StorageDb, callId: string, status: CallStatus, endedAt: number, endReason: string) =>
  db
    .updateTable('calls')
    .set({ status, ended_at: endedAt, end_reason: endReason })
    .where('call_id', '=', callId)
    .where('ended_at', 'is', null),
);

/** Call records on SQLite or PostgreSQL through Kysely; the same statements run on both. */
@Injectable()
export class SqlCallRecordsRepository extends CallRecordsRepository {
  constructor(
    @Inject(KYSELY) private readonly db: StorageDb,
    private readonly health: StorageHealth,
  ) {
    super();
    this.postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  }

  /** The search statements differ (FTS5 on SQLite, a tsvector index on PostgreSQL); everything else is shared. */
  private readonly postgres: boolean;

  createCall(record: NewCallRecord): Promise<void> {
    return this.write([{ kind: 'create', record }]);
  }

  endCall(callId: string, end: CallEnd): Promise<void> {
    return this.write([{ kind: 'end', callId, end }]);
  }

  appendLines(lines: TranscriptLineRecord[]): Promise<void> {
    return this.write([{ kind: 'lines', lines }]);
  }

  write(writes: readonly CallRecordWrite[]): Promise<void> {
    const pending = writes.filter((w) => w.kind !== 'lines' || w.lines.length > 0);
    if (pending.length === 0) return Promise.resolve();
    return this.health.track(async () => {
      // One statement commits on its own; several share a transaction.
      const [only] = pending;
      if (pending.length === 1 && (only.kind !== 'lines' || only.lines.length <= LINE_BATCH)) {
        await this.apply(this.db, only);
        return;
      }
      await this.db.transaction().execute(async (trx) => {
        for (const write of pending) await this.apply(trx, write);
      });
    });
  }

  /** One write on `executor` (the database, or a transaction begun on it). */
  private async apply(executor: StorageDb, write: CallRecordWrite): Promise<void> {
    switch (write.kind) {
      case 'create': {
        const row = toCallRow(write.record);
        await INSERT_CALL.runIn(executor, this.db, ...CALL_COLUMNS.map((column) => row[column] ?? null));
        return;
      }
      case 'end': {
        const { status, endedAt, endReason } = write.end;
        await END_CALL.runIn(executor, this.db, write.callId, status, endedAt.getTime(), endReason);
        return;
      }
      case 'lines': {
        const rows = write.lines.map(toLineRow);
        for (let i = 0; i < rows.length; i += LINE_BATCH) {
          await executor
            .insertInto('transcript_lines')
            .values(rows.slice(i, i + LINE_BATCH))
            .onConflict((oc) => oc.columns(['call_id', 'seq']).doNothing())
            .execute();
        }
      }
    }
  }

  async getCall(callId: string): Promise<CallRecord | undefined> {
    const row = await this.db.selectFrom('calls').selectAll().where('call_id', '=', callId).executeTakeFirst();
    return row && toCallRecord(row);
  }

  async listCalls(query: CallQuery): Promise<CallPage> {
    if (!Number.isInteger(query.limit) || query.limit < 1) throw new RangeError('limit must be a positive integer');
    const limit = Math.min(query.limit, MAX_PAGE_SIZE);
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const words = searchWords(query.q);

    const filtered = (select: CallsSelect, before = after): CallsSelect => {
      select = this.filter(select, query);
      if (before) {
        select = select.where(({ eb, refTuple, tuple }: ExpressionBuilder<StorageSchema, 'calls'>) =>
          eb(refTuple('calls.accepted_at', 'calls.call_id'), '<', tuple(before.acceptedAt, before.callId)),
        );
      }
      return select;
    };
    const newestFirst = (select: CallsSelect, n: number) =>
      select.orderBy('calls.accepted_at', 'desc').orderBy('calls.call_id', 'desc').limit(n).execute();

    let rows: Selectable<CallsTable>[];
    let resumeAfter: Selectable<CallsTable> | undefined;
    if (words.length === 0) {
      rows = await newestFirst(filtered(this.db.selectFrom('calls').selectAll('calls')), limit + 1);
    } else if (this.postgres) {
      ({ rows, resumeAfter } = await this.searchPostgres(words, limit + 1, filtered, newestFirst));
    } else {
      ({ rows, resumeAfter } = await this.searchSqlite(words, limit + 1, filtered, newestFirst));
    }

    const page: CallSummaryRecord[] = rows.slice(0, limit).map(toCallRecord);
    if (words.length > 0 && page.length > 0) {
      const matches = await this.bestLines(page.map((c) => c.callId), words);
      for (const call of page) {
        const match = matches.get(call.callId);
        if (match) call.match = match;
      }
    }
    const last = rows[limit - 1];
    return {
      calls: page,
      ...(rows.length > limit && last
        ? { nextCursor: encodeCursor(last.accepted_at, last.call_id) }
        : resumeAfter
          ? { nextCursor: encodeCursor(resumeAfter.accepted_at, resumeAfter.call_id) }
          : {}),
    };
  }

  /** The filters other than the cursor and `q`. */
  private filter(select: CallsSelect, query: CallQuery): CallsSelect {
    if (query.number !== undefined) {
      const number = query.number;
      select = select.where((eb) =>
        eb.or([eb('calls.caller_number', '=', number), eb('calls.dialled_number', '=', number), eb('calls.forwarded_from', '=', number)]),
      );
    }
    if (query.profile !== undefined) select = select.where('calls.profile', '=', query.profile);
    if (query.from !== undefined) select = select.where('calls.accepted_at', '>=', query.from.getTime());
    if (query.to !== undefined) select = select.where('calls.accepted_at', '<', query.to.getTime());
    if (query.state === 'live') select = select.where('calls.status', '=', 'active');
    if (query.state === 'ended') select = select.where('calls.status', '<>', 'active');
    if (query.endReason !== undefined) select = select.where('calls.end_reason', '=', query.endReason);
    return select;
  }

  /**
   * SQLite: the newest `n` calls `filtered` keeps whose transcript has every word, with a bound on the work whatever
   * the words (better-sqlite3 blocks the event loop meanwhile). Each word's lines are first counted up to
   * SQLITE_SEARCH.indexedLines (a streamed FTS5 read, about a millisecond). The calls of every word with no more lines
   * than that are read from the index (row id / LINE_SPAN) and intersected here: when few, those calls are fetched by
   * key; otherwise the filtered calls are read newest first, batch by batch, and kept when in that set. A commoner word
   * (in a large share of all calls) is checked here on the lines of those candidates. Letting SQLite join the FTS5
   * matches of common words instead took up to a minute at 100,000 calls (it tried each match's key against each
   * call). When the candidates are many and few have every word, the scan stops after SQLITE_SEARCH.scanBudget calls:
   * the page is then short and `resumeAfter` is where its cursor resumes.
   */
  private async searchSqlite(
    words: string[],
    n: number,
    filtered: (select: CallsSelect, before?: { acceptedAt: number; callId: string }) => CallsSelect,
    newestFirst: (select: CallsSelect, n: number) => Promise<Selectable<CallsTable>[]>,
  ): Promise<{ rows: Selectable<CallsTable>[]; resumeAfter?: Selectable<CallsTable> }> {
    const counts = await Promise.all(
      words.map(async (word) => {
        const { rows } = await sql<{ n: number }>`select count(*) as n from (select rowid from transcript_search
          where transcript_search match ${fts5PrefixTerm(word)} limit ${sql.lit(SQLITE_SEARCH.indexedLines + 1)})`.execute(this.db);
        return Number(rows[0]?.n ?? 0);
      }),
    );
    if (counts.some((count) => count === 0)) return { rows: [] };
    const indexed = words.filter((_, i) => counts[i] <= SQLITE_SEARCH.indexedLines).sort((x, y) => counts[words.indexOf(x)] - counts[words.indexOf(y)]);
    const checked = words.filter((_, i) => counts[i] > SQLITE_SEARCH.indexedLines);

    // The keys of the calls that have every indexed word (undefined: no word is indexed, every call is a candidate).
    let keys: Set<number> | undefined;
    for (const word of indexed) {
      const { rows } = await sql<{ key: number }>`select rowid / ${sql.lit(LINE_SPAN)} as key from transcript_search
        where transcript_search match ${fts5PrefixTerm(word)}`.execute(this.db);
      const next = new Set<number>();
      for (const { key } of rows) if (!keys || keys.has(Number(key))) next.add(Number(key));
      keys = next;
      if (keys.size === 0) return { rows: [] };
    }

    /** The calls of `batch` (newest first) whose lines have every checked word. */
    const verify = async (batch: Selectable<CallsTable>[]): Promise<Selectable<CallsTable>[]> => {
      if (checked.length === 0 || batch.length === 0) return batch;
      const found = new Map<string, Set<string>>();
      const lines = await this.db.selectFrom('transcript_lines').select(['call_id', 'text']).where('call_id', 'in', batch.map((c) => c.call_id)).execute();
      for (const line of lines) {
        let set = found.get(line.call_id);
        if (!set) found.set(line.call_id, (set = new Set()));
        if (set.size < checked.length) collectWords(line.text, checked, set);
      }
      return batch.filter((call) => (found.get(call.call_id)?.size ?? 0) === checked.length);
    };

    if (keys && keys.size <= SQLITE_SEARCH.fetchKeys) {
      // Few candidates: fetched by key, then checked newest first until the page is full.
      const ids = (await this.db.selectFrom('call_search_keys').select('call_id').where('key', 'in', [...keys]).execute()).map((r) => r.call_id);
      const candidates = await newestFirst(filtered(this.db.selectFrom('calls').selectAll('calls').where('calls.call_id', 'in', ids)), ids.length);
      const rows: Selectable<CallsTable>[] = [];
      for (let i = 0; i < candidates.length && rows.length < n; i += SQLITE_SEARCH.batch) rows.push(...(await verify(candidates.slice(i, i + SQLITE_SEARCH.batch))));
      return { rows: rows.slice(0, n) };
    }

    const rows: Selectable<CallsTable>[] = [];
    let before: { acceptedAt: number; callId: string } | undefined;
    let scanned = 0;
    for (;;) {
      const batch = await this.db
        .selectFrom(
          filtered(this.db.selectFrom('calls').selectAll('calls'), before)
            .orderBy('calls.accepted_at', 'desc')
            .orderBy('calls.call_id', 'desc')
            .limit(SQLITE_SEARCH.batch)
            .as('c'),
        )
        .leftJoin('call_search_keys as k', 'k.call_id', 'c.call_id')
        .selectAll('c')
        .select('k.key')
        .orderBy('c.accepted_at', 'desc')
        .orderBy('c.call_id', 'desc')
        .execute();
      if (batch.length === 0) return { rows };
      const { key: _, ...last } = batch[batch.length - 1];
      rows.push(...(await verify(batch.filter((c) => c.key != null && (!keys || keys.has(Number(c.key)))).map(({ key: _k, ...call }) => call))));
      if (rows.length >= n) return { rows: rows.slice(0, n) };
      scanned += batch.length;
      if (batch.length < SQLITE_SEARCH.batch) return { rows };
      if (scanned >= SQLITE_SEARCH.scanBudget) return { rows, resumeAfter: last };
      before = { acceptedAt: Number(last.accepted_at), callId: last.call_id };
    }
  }

  /**
   * PostgreSQL: the newest `n` calls `filtered` keeps whose transcript has every word. A word that starts terms of
   * fewer than PG_COMMON_SHARE of all lines (by the `words` column's statistics) is read from the index: its calls'
   * keys, rarest word first, each next word only among the calls of the previous (the planner then probes those calls'
   * lines or reads the word's index, whichever is cheaper), so the calls are a key list before they are filtered and
   * ordered. A commoner word is checked on the candidates' lines, newest first, as scanChecking does. Left to the
   * planner, one statement with a semi-join per word read the newest calls one by one and probed each one's lines
   * (a word of a thousand lines: 1,500 calls, 60 ms on a 2-vCPU VM), or read every call to hash them (40 ms), and
   * did either again for every batch of a scan.
   */
  private async searchPostgres(
    words: string[],
    n: number,
    filtered: (select: CallsSelect, before?: { acceptedAt: number; callId: string }) => CallsSelect,
    newestFirst: (select: CallsSelect, n: number) => Promise<Selectable<CallsTable>[]>,
  ): Promise<{ rows: Selectable<CallsTable>[]; resumeAfter?: Selectable<CallsTable> }> {
    const shares = await this.pgShares(words);
    // Rarest first, so that a call's check stops at the word it most likely lacks.
    const checked = words.filter((word) => shares.get(word)! >= PG_COMMON_SHARE).sort((x, y) => shares.get(x)! - shares.get(y)!);
    // Rarest first: a word without statistics is rarer than any with.
    const indexed = words.filter((word) => shares.get(word)! < PG_COMMON_SHARE).sort((x, y) => shares.get(x)! - shares.get(y)!);
    let ids: string[] | undefined;
    for (const word of indexed) {
      const { rows } = await sql<{ call_id: string }>`select call_id from transcript_lines
        where words @@ to_tsquery('simple'::regconfig, ${tsPrefixTerm(word)})${ids ? sql` and call_id = any(${ids})` : sql``}
        limit ${sql.lit(PG_SEARCH.indexedLines + 1)}`.execute(this.db);
      if (rows.length > PG_SEARCH.indexedLines) {
        // Commoner than its statistics say (or none yet): checked on the candidates' lines instead.
        checked.push(word);
        continue;
      }
      ids = [...new Set(rows.map((r) => r.call_id))];
      if (ids.length === 0) return { rows: [] };
    }
    const calls = () => this.db.selectFrom('calls').selectAll('calls');
    if (!ids) return this.scanChecking((before) => newestFirst(filtered(calls(), before), SQLITE_SEARCH.batch), checked, n);
    const keys = ids;
    const candidates = filtered(calls()).where('calls.call_id', '=', sql<string>`any(${keys})`);
    if (checked.length === 0) return { rows: await newestFirst(candidates, n) };
    // The candidates newest first, once (as many as a scan reads), then checked a batch at a time: a batch read by
    // keyset would find the candidates again each time, and by key the planner reads every call (a sequential scan
    // costs less than 200 index probes at the default random_page_cost).
    const found = await newestFirst(candidates, SQLITE_SEARCH.scanBudget);
    return this.scanChecking(async (_, scanned) => found.slice(scanned, scanned + SQLITE_SEARCH.batch), checked, n);
  }

  /**
   * PostgreSQL: the newest `n` of the calls `next` reads (newest first, a batch at a time: given the last call read,
   * and how many) whose lines have every one of `checked` (in that order, so the rarest first), stopping after
   * SQLITE_SEARCH.scanBudget calls (a short page, resumed after `resumeAfter`).
   */
  private async scanChecking(
    next: (before: { acceptedAt: number; callId: string } | undefined, scanned: number) => Promise<Selectable<CallsTable>[]>,
    checked: string[],
    n: number,
  ): Promise<{ rows: Selectable<CallsTable>[]; resumeAfter?: Selectable<CallsTable> }> {
    const rows: Selectable<CallsTable>[] = [];
    let before: { acceptedAt: number; callId: string } | undefined;
    let scanned = 0;
    for (;;) {
      const batch = await next(before, scanned);
      const having = await this.pgHaving(batch.map((c) => c.call_id), checked);
      rows.push(...batch.filter((c) => having.has(c.call_id)));
      if (rows.length >= n) return { rows: rows.slice(0, n) };
      scanned += batch.length;
      const last = batch.at(-1);
      if (!last || batch.length < SQLITE_SEARCH.batch) return { rows };
      if (scanned >= SQLITE_SEARCH.scanBudget) return { rows, resumeAfter: last };
      before = { acceptedAt: Number(last.accepted_at), callId: last.call_id };
    }
  }

  /**
   * PostgreSQL: which of `callIds` have lines with every one of `words`, checked in that order on each call's stored
   * words (a probe of the lines' primary key per call and word, stopping at the first word a call lacks). Scalar
   * subqueries in the select list, so that the planner can turn no probe into a hash of every line with the word: a
   * semi-join can become a hash join, an EXISTS a hashed subplan (chosen on small tables, and made again for every
   * batch: 250 ms at 5,000 calls).
   */
  private async pgHaving(callIds: string[], words: string[]): Promise<Set<string>> {
    if (callIds.length === 0) return new Set();
    const has = words.map(
      (word) => sql`coalesce((select true from transcript_lines l where l.call_id = k.call_id and l.words @@ to_tsquery('simple'::regconfig, ${tsPrefixTerm(word)}) limit 1), false)`,
    );
    const { rows } = await sql<{ call_id: string; hit: boolean }>`select k.call_id, ${sql.join(has, sql` and `)} as hit
      from unnest(${callIds}::text[]) as k(call_id)`.execute(this.db);
    return new Set(rows.filter((r) => r.hit).map((r) => r.call_id));
  }

  /**
   * PostgreSQL: the share of all lines with a term each of `words` starts, by the `words` column's statistics (its
   * most common elements, from ANALYZE): 0 for a word that starts none of them, and for every word before the first.
   */
  private async pgShares(words: string[]): Promise<Map<string, number>> {
    const now = Date.now();
    if (!this.pgStats || now - this.pgStats.at > PG_STATS_TTL_MS) {
      const { rows } = await sql<{ elems: string[] | null; freqs: number[] | null }>`select most_common_elems::text::text[] as elems,
          most_common_elem_freqs as freqs from pg_stats where schemaname = current_schema() and tablename = 'transcript_lines' and attname = 'words'`.execute(this.db);
      const elems = rows[0]?.elems ?? [];
      const freqs = rows[0]?.freqs ?? [];
      this.pgStats = { at: now, elems: elems.map((term, i) => [term, Number(freqs[i] ?? 0)] as const) };
    }
    const elems = this.pgStats.elems;
    return new Map(
      words.map((word) => {
        let share = 0;
        for (const [term, freq] of elems) if (term.startsWith(word)) share += freq;
        return [word, share];
      }),
    );
  }

  private pgStats?: { at: number; elems: ReadonlyArray<readonly [string, number]> };

  /** For each call, its line matching the most of `words` (the first such line), with its highlights. */
  private async bestLines(callIds: string[], words: string[]): Promise<Map<string, LineMatch>> {
    // The page's few lines (a primary-key range per call): SQLite reads them all rather than opening an FTS5 query
    // per call; PostgreSQL sends only those with a word, checked on their stored words. Materialized first, or the
    // planner intersects them with the index's bitmap of every line with the words (16 ms for a common word).
    const lines = this.postgres
      ? (
          await sql<Selectable<TranscriptLinesTable>>`with page_lines as materialized (
              select ${sql.join(LINE_COLUMNS.map((column) => sql.ref(column)))}, words from transcript_lines where call_id = any(${callIds}))
            select ${sql.join(LINE_COLUMNS.map((column) => sql.ref(column)))} from page_lines
            where words @@ to_tsquery('simple'::regconfig, ${tsAnyPrefix(words)})`.execute(this.db)
        ).rows
      : await this.db.selectFrom('transcript_lines').select(LINE_COLUMNS).where('call_id', 'in', callIds).execute();
    const best = new Map<string, { matched: number; seq: number; match: LineMatch }>();
    for (const row of lines) {
      const { matched, highlights } = matchLine(row.text, words);
      if (matched === 0) continue;
      const line = toLineRecord(row);
      const current = best.get(line.callId);
      if (current && (current.matched > matched || (current.matched === matched && current.seq < line.seq))) continue;
      best.set(line.callId, {
        matched,
        seq: line.seq,
        match: {
          seq: line.seq,
          speaker: line.speaker,
          text: line.text,
          interrupted: line.interrupted,
          placeholder: line.placeholder,
          at: line.at,
          highlights,
        },
      });
    }
    return new Map([...best].map(([callId, { match }]) => [callId, match]));
  }

  async lastLines(callIds: string[]): Promise<Map<string, TranscriptLineRecord>> {
    const lines = new Map<string, TranscriptLineRecord>();
    const ids = [...new Set(callIds)];
    for (let i = 0; i < ids.length; i += LINE_BATCH) {
      const rows = await this.db
        .selectFrom('transcript_lines as l')
        .select(LINE_COLUMNS.map((column) => `l.${column}` as const))
        .where('l.call_id', 'in', ids.slice(i, i + LINE_BATCH))
        .where(({ eb, selectFrom }) =>
          eb('l.seq', '=', selectFrom('transcript_lines as m').select((m) => m.fn.max('m.seq').as('seq')).whereRef('m.call_id', '=', 'l.call_id')),
        )
        .execute();
      for (const row of rows) lines.set(row.call_id, toLineRecord(row));
    }
    return lines;
  }

  async stats(window: StatsWindow): Promise<CallStats> {
    const from = window.from.getTime();
    const to = window.to.getTime();
    if (!(window.bucketMs > 0) || !(to >= from)) throw new RangeError('stats needs bucketMs > 0 and from <= to');
    const bounds = window.durationBoundsSeconds;
    // One compact row per call of the window; the first agent line is a seek on the lines' primary key per call.
    const rows = await this.db
      .selectFrom('calls as c')
      .select((eb) => [
        'c.accepted_at',
        'c.ended_at',
        'c.status',
        'c.end_reason',
        eb
          .selectFrom('transcript_lines as l')
          .select('l.at')
          .whereRef('l.call_id', '=', 'c.call_id')
          .where('l.speaker', '=', 'agent')
          .orderBy('l.seq')
          .limit(1)
          .as('first_agent_at'),
      ])
      .where('c.accepted_at', '>=', from)
      .where('c.accepted_at', '<', to)
      .execute();

    const bucketCount = Math.max(1, Math.ceil((to - from) / window.bucketMs));
    const buckets = Array.from({ length: bucketCount }, (_, i) => ({ start: new Date(from + i * window.bucketMs), outcomes: {} as Record<string, number> }));
    const counts = new Array<number>(bounds.length + 1).fill(0);
    const firstLines: number[] = [];
    let transferred = 0;
    let answered = 0;
    for (const row of rows) {
      const acceptedAt = Number(row.accepted_at);
      const outcome = row.end_reason ?? (row.status === 'active' ? 'live' : row.status);
      const outcomes = buckets[Math.min(bucketCount - 1, Math.floor((acceptedAt - from) / window.bucketMs))].outcomes;
      outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      if (row.ended_at != null) {
        const seconds = (Number(row.ended_at) - acceptedAt) / 1000;
        let i = 0;
        while (i < bounds.length && seconds >= bounds[i]) i++;
        counts[i]++;
      }
      if (row.status !== 'rejected') answered++;
      if (row.end_reason === 'transferred') transferred++;
      if (row.first_agent_at != null) firstLines.push(Number(row.first_agent_at) - acceptedAt);
    }
    firstLines.sort((a, b) => a - b);
    return {
      from: window.from,
      to: window.to,
      bucketMs: window.bucketMs,
      buckets,
      durations: { boundsSeconds: [...bounds], counts },
      total: rows.length,
      transferRate: answered === 0 ? 0 : transferred / answered,
      firstAgentLineP95Ms: firstLines.length === 0 ? null : firstLines[Math.ceil(0.95 * firstLines.length) - 1],
    };
  }

  async transcript(callId: string): Promise<TranscriptLineRecord[]> {
    const rows = await this.db
      .selectFrom('transcript_lines')
      .select(LINE_COLUMNS)
      .where('call_id', '=', callId)
      .orderBy('seq', 'asc')
      .execute();
    return rows.map(toLineRecord);
  }

  purgeEndedBefore(cutoff: Date): Promise<number> {
    return this.health.track(async () => {
      let deleted = 0;
      for (;;) {
        const removed = await this.db.transaction().execute(async (trx) => {
          const ids = (
            await trx
              .selectFrom('calls')
              .select('call_id')
              .where('ended_at', '<', cutoff.getTime())
              .orderBy('ended_at')
              .limit(PURGE_BATCH)
              .execute()
          ).map((r) => r.call_id);
          if (ids.length === 0) return 0;
          await trx.deleteFrom('transcript_lines').where('call_id', 'in', ids).execute();
          await trx.deleteFrom('tool_invocations').where('call_id', 'in', ids).execute();
          await trx.deleteFrom('call_events').where('call_id', 'in', ids).execute();
          await trx.deleteFrom('notification_outbox').where('call_id', 'in', ids).execute();
          const result = await trx
            .deleteFrom('calls')
            .where('call_id', 'in', ids)
            .where('ended_at', '<', cutoff.getTime())
            .executeTakeFirst();
          return Number(result.numDeletedRows);
        });
        deleted += removed;
        if (removed < PURGE_BATCH) return deleted;
      }
    });
  }

}

function toCallRow(record: NewCallRecord): Selectable<CallsTable> {
  return {
    call_id: record.callId,
    status: record.status ?? 'active',
    profile: record.profile,
    caller_number: record.callerNumber,
    dialled_number: record.dialledNumber,
    forwarded_from: record.forwardedFrom,
    from_uri: record.fromUri,
    sip_call_id: record.sipCallId,
    twilio_call_sid: record.twilioCallSid,
    conference_name: record.conferenceName,
    accepted_at: record.acceptedAt.getTime(),
    ended_at: record.endedAt ? record.endedAt.getTime() : null,
    end_reason: record.endReason ?? null,
    metadata: record.metadata == null ? null : JSON.stringify(record.metadata),
  };
}

function toCallRecord(row: Selectable<CallsTable>): CallRecord {
  return {
    callId: row.call_id,
    status: row.status as CallStatus,
    profile: row.profile,
    callerNumber: row.caller_number,
    dialledNumber: row.dialled_number,
    forwardedFrom: row.forwarded_from,
    fromUri: row.from_uri,
    sipCallId: row.sip_call_id,
    twilioCallSid: row.twilio_call_sid,
    conferenceName: row.conference_name,
    acceptedAt: new Date(Number(row.accepted_at)),
    endedAt: row.ended_at == null ? null : new Date(Number(row.ended_at)),
    endReason: row.end_reason,
    metadata: parseMetadata(row.metadata),
  };
}

function parseMetadata(text: string | null): Record<string, unknown> | null {
  if (text == null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function toLineRow(line: TranscriptLineRecord): Selectable<TranscriptLinesTable> {
  return {
    call_id: line.callId,
    seq: line.seq,
    speaker: line.speaker,
    text: line.text,
    item_id: line.itemId,
    interrupted: line.interrupted ? 1 : 0,
    placeholder: line.placeholder ? 1 : 0,
    at: line.at.getTime(),
  };
}

function toLineRecord(row: Selectable<TranscriptLinesTable>): TranscriptLineRecord {
  return {
    callId: row.call_id,
    seq: Number(row.seq),
    speaker: row.speaker as Speaker,
    text: row.text,
    itemId: row.item_id,
    interrupted: Number(row.interrupted) === 1,
    placeholder: Number(row.placeholder) === 1,
    at: new Date(Number(row.at)),
  };
}

/** Opaque to callers: base64url of `[acceptedAtMs, callId]`, the last row of the previous page. */
function encodeCursor(acceptedAt: number, callId: string): string {
  return Buffer.from(JSON.stringify([Number(acceptedAt), callId])).toString('base64url');
}

function decodeCursor(cursor: string): { acceptedAt: number; callId: string } {
  if (cursor.length === 0 || cursor.length > 1024 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new InvalidCursorError();
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  if (
    !Array.isArray(value) ||
    value.length !== 2 ||
    !Number.isSafeInteger(value[0]) ||
    typeof value[1] !== 'string' ||
    value[1].length === 0
  ) {
    throw new InvalidCursorError();
  }
  return { acceptedAt: value[0] as number, callId: value[1] };
}
