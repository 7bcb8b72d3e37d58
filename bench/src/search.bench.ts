/**
 * The console's history search: 100,000 stored calls of 10 lines each (a week at ~10 calls a minute), then 200
 * `listCalls` searches of varied words (common to rare, one to three words, some with filters) and 200 plain filtered
 * listings, each a first page of 20 (the console's default), timed one at a time. SQLite always (a temporary file,
 * the service's settings), PostgreSQL too when BENCH_DATABASE_URL or TEST_DATABASE_URL is set (a fresh schema,
 * dropped afterwards). The lines are words drawn from a 20,000-word vocabulary by a Zipf law, so the most common
 * word is in most lines, as "the" is in a real transcript; searches pick words across the ranks.
 * `BENCH_SEARCH_CALLS` changes the number of calls; `BENCH_SEARCH_SLOW_MS` lists every query slower than that.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql, type Insertable } from 'kysely';
import pg from 'pg';
import {
  SqlCallRecordsRepository,
  StorageHealth,
  createPostgresDatabase,
  createSqliteDatabase,
  migrateToLatest,
  type CallQuery,
  type CallsTable,
  type StorageDb,
  type TranscriptLinesTable,
  type StorageDialect,
} from '#storage';
import type { BenchResult, Target } from './report.js';

const CALLS = Number(process.env.BENCH_SEARCH_CALLS ?? 100_000);
const LINES = 10;
const QUERIES = 200;
const TARGET_P99_MS = 100;
const SLOW_MS = process.env.BENCH_SEARCH_SLOW_MS ? Number(process.env.BENCH_SEARCH_SLOW_MS) : undefined;
const WEEK_MS = 7 * 86_400_000;

/** A deterministic generator, so every run stores and searches the same data. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 4_294_967_296;
  };
}

function vocabulary(size: number): string[] {
  const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'ta', 'be', 'so', 'di', 'fa', 'go', 'pe', 'zu', 'ri', 'ma', 'no', 'te', 'la', 'vi', 'xo'];
  const words = new Set(['the', 'and', 'order', 'refund', 'delivery', 'please', 'thank', 'you', 'account', 'payment']);
  for (let i = 0; words.size < size; i++) {
    let word = '';
    let n = i;
    do {
      word += syllables[n % syllables.length];
      n = Math.floor(n / syllables.length);
    } while (n > 0);
    if (word.length >= 4) words.add(word);
  }
  return [...words];
}

/** Picks words of `words` with probability ∝ 1 / rank. */
function zipf(words: string[], rand: () => number): () => string {
  const cumulative: number[] = [];
  let total = 0;
  for (let i = 0; i < words.length; i++) cumulative.push((total += 1 / (i + 1)));
  return () => {
    const u = rand() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return words[lo];
  };
}

const OUTCOMES = ['remote_closed', 'remote_closed', 'remote_closed', 'transferred', 'error', 'busy'];

async function load(db: StorageDb, now: number): Promise<number> {
  const words = vocabulary(20_000);
  const rand = random(7);
  const pick = zipf(words, rand);
  const started = performance.now();
  const CHUNK = 1000;
  for (let first = 0; first < CALLS; first += CHUNK) {
    const calls: Insertable<CallsTable>[] = [];
    const lines: Insertable<TranscriptLinesTable>[] = [];
    for (let i = first; i < Math.min(CALLS, first + CHUNK); i++) {
      const callId = `rtc_${i.toString(36).padStart(8, '0')}`;
      const acceptedAt = now - WEEK_MS + Math.floor((i * WEEK_MS) / CALLS);
      const outcome = i >= CALLS - 20 ? null : OUTCOMES[i % OUTCOMES.length];
      calls.push({
        call_id: callId,
        status: outcome === null ? 'active' : outcome === 'busy' ? 'rejected' : outcome === 'error' ? 'failed' : 'ended',
        profile: i % 4 === 0 ? 'sales' : 'default',
        caller_number: `+1415555${String(i % 10_000).padStart(4, '0')}`,
        dialled_number: '+14155550199',
        accepted_at: acceptedAt,
        ended_at: outcome === null ? null : acceptedAt + 30_000 + Math.floor(rand() * 600_000),
        end_reason: outcome,
      });
      for (let seq = 0; seq < LINES; seq++) {
        const n = 5 + Math.floor(rand() * 10);
        const text = Array.from({ length: n }, pick).join(' ');
        lines.push({ call_id: callId, seq, speaker: seq % 2 === 0 ? 'agent' : 'caller', text: `${text}.`, at: acceptedAt + 2000 + seq * 4000, interrupted: 0, placeholder: 0 });
      }
    }
    await db.transaction().execute(async (trx) => {
      for (let i = 0; i < calls.length; i += 500) await trx.insertInto('calls').values(calls.slice(i, i + 500)).execute();
      for (let i = 0; i < lines.length; i += 1000) await trx.insertInto('transcript_lines').values(lines.slice(i, i + 1000)).execute();
    });
  }
  return (performance.now() - started) / 1000;
}

function queries(now: number): { searches: Omit<CallQuery, 'limit'>[]; listings: Omit<CallQuery, 'limit'>[] } {
  const words = vocabulary(20_000);
  const rand = random(11);
  // Ranks spread over the vocabulary: the top words (in most lines), the middle, and the rare tail.
  const word = () => words[Math.floor(Math.pow(words.length, rand())) - 1];
  const searches: Omit<CallQuery, 'limit'>[] = [];
  for (let i = 0; i < QUERIES; i++) {
    const n = 1 + (i % 3);
    const q = Array.from({ length: n }, word).join(i % 5 === 0 ? ', ' : ' ');
    const filter = i % 4 === 1 ? { state: 'ended' as const } : i % 4 === 2 ? { profile: 'sales', from: new Date(now - 86_400_000) } : {};
    searches.push({ q, ...filter });
  }
  const listings: Omit<CallQuery, 'limit'>[] = [];
  for (let i = 0; i < QUERIES; i++) {
    const filters: Omit<CallQuery, 'limit'>[] = [
      {},
      { state: 'live' },
      { state: 'ended', endReason: 'transferred' },
      { number: `+1415555${String(i * 37 % 10_000).padStart(4, '0')}` },
      { profile: 'sales', from: new Date(now - 2 * 86_400_000), to: new Date(now - 86_400_000) },
    ];
    listings.push(filters[i % filters.length]);
  }
  return { searches, listings };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function timed(repo: SqlCallRecordsRepository, list: Omit<CallQuery, 'limit'>[]) {
  // A second page for each, from the first page's cursor, as the console's "more" does.
  const times: number[] = [];
  let found = 0;
  for (const query of list) {
    const started = performance.now();
    const page = await repo.listCalls({ ...query, limit: 20 });
    const ms = performance.now() - started;
    times.push(ms);
    found += page.calls.length;
    if (SLOW_MS !== undefined && ms > SLOW_MS) console.log(`slow: ${ms.toFixed(1)} ms ${JSON.stringify(query)} → ${page.calls.length} calls`);
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), max: times.at(-1)!, found };
}

interface Opened {
  db: StorageDb;
  /** What the stored calls take: the database, and its search index. */
  size(): Promise<string>;
  close(): Promise<void>;
}

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(0)} MB`;

async function open(dialect: StorageDialect): Promise<Opened> {
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'search-bench-'));
    const file = join(dir, 'bridge.sqlite');
    const db = createSqliteDatabase(file);
    return {
      db,
      async size() {
        await sql`pragma wal_checkpoint(truncate)`.execute(db);
        // The FTS5 index's own tables (migrations 0004 and 0006): its segments, and the key of each call.
        const { rows } = await sql<{ fts: number; keys: number }>`select
            (select coalesce(sum(pgsize), 0) from dbstat where name like 'transcript_search%') as fts,
            (select coalesce(sum(pgsize), 0) from dbstat where name like 'call_search_keys%' or name like 'sqlite_autoindex_call_search_keys%') as keys`
          .execute(db)
          .catch(() => ({ rows: [] as { fts: number; keys: number }[] }));
        const fts = rows[0] ? `; FTS5 index ${mb(Number(rows[0].fts))}, call keys ${mb(Number(rows[0].keys))}` : '';
        return `file ${mb(statSync(file).size)}${fts}`;
      },
      async close() {
        await db.destroy();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const url = (process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL)!;
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  const db = createPostgresDatabase({ connectionString: url, options: `-c search_path=${schema}` });
  return {
    db,
    async size() {
      const { rows } = await sql<{ schema: string; lines: string; heap: string; words: string }>`select
          (select sum(pg_total_relation_size(c.oid)) from pg_class c where c.relnamespace = current_schema()::regnamespace and c.relkind = 'r') as schema,
          pg_total_relation_size('transcript_lines') as lines, pg_relation_size('transcript_lines') as heap,
          coalesce(pg_relation_size(to_regclass('transcript_lines_words_idx')), pg_relation_size(to_regclass('transcript_lines_search_idx'))) as words`.execute(db);
      const r = rows[0];
      return `tables ${mb(Number(r.schema))}; transcript_lines ${mb(Number(r.lines))} (heap ${mb(Number(r.heap))}), its search index ${mb(Number(r.words))}`;
    },
    async close() {
      await db.destroy();
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    },
  };
}

export async function benchSearch(): Promise<BenchResult> {
  const dialects: StorageDialect[] = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];
  const now = Date.UTC(2026, 10, 21, 12);
  const { searches, listings } = queries(now);
  const rows: string[] = [];
  const targets: Target[] = [];
  for (const dialect of dialects) {
    const opened = await open(dialect);
    try {
      await migrateToLatest(opened.db, dialect);
      const loadSeconds = await load(opened.db, now);
      // PostgreSQL plans the search from the index's statistics, which autovacuum would gather in a while.
      if (dialect === 'postgres') await sql`analyze`.execute(opened.db);
      const size = await opened.size();
      const repo = new SqlCallRecordsRepository(opened.db, new StorageHealth());
      await timed(repo, searches.slice(0, 20)); // warm the caches
      const search = await timed(repo, searches);
      const listing = await timed(repo, listings);
      const statsStarted = performance.now();
      const stats = await repo.stats({ from: new Date(now - WEEK_MS), to: new Date(now), bucketMs: 6 * 3_600_000, durationBoundsSeconds: [30, 60, 120, 300, 600] });
      const statsMs = performance.now() - statsStarted;
      const ms = (n: number) => n.toFixed(1);
      rows.push(
        `| ${dialect} | search (q) | ${QUERIES} | ${ms(search.p50)} | ${ms(search.p99)} | ${ms(search.max)} | ${(search.found / QUERIES).toFixed(1)} |`,
        `| ${dialect} | filters only | ${QUERIES} | ${ms(listing.p50)} | ${ms(listing.p99)} | ${ms(listing.max)} | ${(listing.found / QUERIES).toFixed(1)} |`,
        `| ${dialect} | stats, 7 days (${stats.total.toLocaleString('en-US')} calls) | 1 | ${ms(statsMs)} | | | |`,
      );
      rows.push(`| ${dialect} | (bulk load of ${CALLS.toLocaleString('en-US')} calls × ${LINES} lines: ${loadSeconds.toFixed(1)} s, ${Math.round((CALLS * LINES) / loadSeconds).toLocaleString('en-US')} lines/s; ${size}) | | | | | |`);
      for (const [name, figure] of [['search', search], ['filtered listing', listing]] as const) {
        targets.push({
          name: `${dialect} ${name}`,
          goal: `p99 ≤ ${TARGET_P99_MS} ms at ${CALLS.toLocaleString('en-US')} calls`,
          measured: `p99 ${ms(figure.p99)} ms (p50 ${ms(figure.p50)} ms)`,
          met: figure.p99 <= TARGET_P99_MS,
        });
      }
    } finally {
      await opened.close();
    }
  }
  const section = [
    `${CALLS.toLocaleString('en-US')} calls × ${LINES} lines over 7 days; ${QUERIES} first pages of 20 each, one at a time (search: one to three words of`,
    'every frequency, some with a state or profile and time filter; filters only: all, live, an end reason, a number, a profile and a day).',
    '',
    '| database | query | runs | p50 ms | p99 ms | max ms | calls per page |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...rows,
  ].join('\n');
  return { section, targets };
}

// `node …/search.bench.js` runs it alone.
if (process.argv[1]?.endsWith('search.bench.js')) {
  const result = await benchSearch();
  console.log(result.section);
  for (const target of result.targets) console.log(`${target.name}: ${target.measured} — ${target.met ? 'met' : 'NOT met'}`);
  process.exit(0);
}
