import { Migrator, sql, type Kysely, type Migration, type MigrationResult } from 'kysely';
import type { StorageDialect } from './schema.js';
import { errorMessage } from '#resilience';

/**
 * The one migration set of both dialects. Append new migrations with a larger, zero-padded name; never edit one
 * that has shipped. Only the few types that differ (an auto-increment key) depend on the dialect.
 */
export function storageMigrations(dialect: StorageDialect): Record<string, Migration> {
  return {
    '0001_initial': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('calls')
          .ifNotExists()
          .addColumn('call_id', 'text', (c) => c.primaryKey().notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('profile', 'text')
          .addColumn('caller_number', 'text')
          .addColumn('dialled_number', 'text')
          .addColumn('forwarded_from', 'text')
          .addColumn('from_uri', 'text')
          .addColumn('sip_call_id', 'text')
          .addColumn('twilio_call_sid', 'text')
          .addColumn('conference_name', 'text')
          .addColumn('accepted_at', 'bigint', (c) => c.notNull())
          .addColumn('ended_at', 'bigint')
          .addColumn('end_reason', 'text')
          .addColumn('metadata', 'text')
          .execute();
        // listCalls: newest first, keyset on (accepted_at, call_id), alone or behind an equality filter.
        await index(db, 'calls_accepted_idx', 'calls', ['accepted_at desc', 'call_id desc']);
        await index(db, 'calls_caller_idx', 'calls', ['caller_number', 'accepted_at desc', 'call_id desc']);
        await index(db, 'calls_dialled_idx', 'calls', ['dialled_number', 'accepted_at desc', 'call_id desc']);
        await index(db, 'calls_forwarded_idx', 'calls', ['forwarded_from', 'accepted_at desc', 'call_id desc']);
        await index(db, 'calls_profile_idx', 'calls', ['profile', 'accepted_at desc', 'call_id desc']);
        // Retention.
        await index(db, 'calls_ended_idx', 'calls', ['ended_at']);

        await db.schema
          .createTable('transcript_lines')
          .ifNotExists()
          .addColumn('call_id', 'text', (c) => c.notNull())
          .addColumn('seq', 'integer', (c) => c.notNull())
          .addColumn('speaker', 'text', (c) => c.notNull())
          .addColumn('text', 'text', (c) => c.notNull())
          .addColumn('item_id', 'text')
          .addColumn('interrupted', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('placeholder', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('transcript_lines_pk', ['call_id', 'seq'])
          .execute();

        await db.schema
          .createTable('tool_invocations')
          .ifNotExists()
          .addColumn('id', 'text', (c) => c.primaryKey().notNull())
          .addColumn('call_id', 'text', (c) => c.notNull())
          .addColumn('tool_call_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('arguments', 'text')
          .addColumn('result', 'text')
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('started_at', 'bigint', (c) => c.notNull())
          .addColumn('finished_at', 'bigint')
          .addUniqueConstraint('tool_invocations_call_tool_uq', ['call_id', 'tool_call_id'])
          .execute();

        await db.schema
          .createTable('notification_outbox')
          .ifNotExists()
          .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
            dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
          .addColumn('destination', 'text', (c) => c.notNull())
          .addColumn('call_id', 'text')
          .addColumn('dedupe_key', 'text', (c) => c.notNull())
          .addColumn('payload', 'text', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('last_error', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
          .addColumn('delivered_at', 'bigint')
          .addUniqueConstraint('notification_outbox_dedupe_uq', ['destination', 'dedupe_key'])
          .execute();
        await index(db, 'notification_outbox_due_idx', 'notification_outbox', ['status', 'next_attempt_at']);
        await index(db, 'notification_outbox_call_idx', 'notification_outbox', ['call_id']);

        await db.schema
          .createTable('idempotency_claims')
          .ifNotExists()
          .addColumn('key', 'text', (c) => c.primaryKey().notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .execute();
        await index(db, 'idempotency_claims_expires_idx', 'idempotency_claims', ['expires_at']);
      },
    },
    '0002_conference_links': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('conference_links')
          .ifNotExists()
          .addColumn('conference_name', 'text', (c) => c.primaryKey().notNull())
          .addColumn('conference_sid', 'text')
          .addColumn('caller_call_sid', 'text', (c) => c.notNull())
          .addColumn('caller_number', 'text')
          .addColumn('dialled_number', 'text')
          .addColumn('call_token', 'text')
          .addColumn('agent_call_sid', 'text')
          .addColumn('agent_status', 'text', (c) => c.notNull())
          .addColumn('openai_call_id', 'text')
          .addColumn('human_attempt', 'text')
          .addColumn('human_call_sid', 'text')
          .addColumn('human_status', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
        await index(db, 'conference_links_openai_call_idx', 'conference_links', ['openai_call_id']);
        // Retention (links hold a caller's number and CallToken).
        await index(db, 'conference_links_created_idx', 'conference_links', ['created_at']);
      },
    },
    '0003_outbox_leases': {
      async up(db: Kysely<any>) {
        await db.schema.alterTable('notification_outbox').addColumn('owner', 'text').execute();
        // Rows stored before this migration, or by a replica of the previous version still running during a rolling
        // update (it stores no lease), have no owner. On PostgreSQL they get a lease of 30 s from when they were
        // stored (or from the migration), so that a new replica does not send at once what an old one is sending; on
        // SQLite (one process, and no expression defaults in ALTER TABLE) 0, adopted by the next start.
        await db.schema
          .alterTable('notification_outbox')
          .addColumn('lease_until', 'bigint', (c) =>
            c.notNull().defaultTo(dialect === 'postgres' ? sql`((extract(epoch from now()) * 1000)::bigint + 30000)` : 0),
          )
          .execute();
      },
    },
    '0004_console_search_events': {
      async up(db: Kysely<any>) {
        // The console's history filters: live calls (few), and calls by how they ended, newest first.
        await index(db, 'calls_status_idx', 'calls', ['status', 'accepted_at desc', 'call_id desc']);
        await index(db, 'calls_end_reason_idx', 'calls', ['end_reason', 'accepted_at desc', 'call_id desc']);

        await db.schema
          .createTable('call_events')
          .ifNotExists()
          .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
            dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
          .addColumn('call_id', 'text', (c) => c.notNull())
          .addColumn('event_id', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('data', 'text', (c) => c.notNull())
          .addUniqueConstraint('call_events_call_event_uq', ['call_id', 'event_id'])
          .execute();
        await index(db, 'call_events_call_idx', 'call_events', ['call_id', 'at', 'id']);

        if (dialect === 'postgres') {
          // Words as `searchWords` reads them: runs of letters and digits (what is not one becomes a space, so the
          // parser sees no e-mail, URL or hyphenated word), lower-cased by the `simple` configuration. Queries
          // repeat this expression exactly (SEARCH_VECTOR) so that they use the index.
          await sql`create index if not exists transcript_lines_search_idx on transcript_lines using gin (${sql.raw(PG_SEARCH_VECTOR)})`.execute(db);
          return;
        }
        // An FTS5 index of every line (contentless: the text stays in transcript_lines), kept by triggers so that
        // every write path (batches, raw inserts, the purge) keeps it exact. Its row id is `key * 2^20 + seq`, the key
        // a small integer per call (AUTOINCREMENT: never reused, so a stale row id never names a new call): a match
        // says which call without a lookup, and a call's lines are one row-id range. `remove_diacritics 0`: PostgreSQL's
        // `simple` configuration keeps accents, and both dialects must match the same calls.
        await sql`create table if not exists call_search_keys (key integer primary key autoincrement, call_id text not null unique)`.execute(db);
        await sql`create virtual table if not exists transcript_search using fts5(text, content='', contentless_delete=1, tokenize="unicode61 remove_diacritics 0")`.execute(db);
        await sql`create trigger if not exists transcript_lines_search_ai after insert on transcript_lines when new.seq < 1048576 begin
            insert or ignore into call_search_keys (call_id) values (new.call_id);
            insert into transcript_search (rowid, text) select key * 1048576 + new.seq, new.text from call_search_keys where call_id = new.call_id;
          end`.execute(db);
        await sql`create trigger if not exists transcript_lines_search_ad after delete on transcript_lines begin
            delete from transcript_search where rowid = (select key * 1048576 + old.seq from call_search_keys where call_id = old.call_id);
          end`.execute(db);
        await sql`create trigger if not exists calls_search_ad after delete on calls begin
            delete from transcript_search where rowid between (select key * 1048576 from call_search_keys where call_id = old.call_id)
              and (select key * 1048576 + 1048575 from call_search_keys where call_id = old.call_id);
            delete from call_search_keys where call_id = old.call_id;
          end`.execute(db);
        // Lines stored before this migration.
        await sql`insert or ignore into call_search_keys (call_id) select distinct call_id from transcript_lines`.execute(db);
        await sql`insert into transcript_search (rowid, text)
            select k.key * 1048576 + l.seq, l.text from transcript_lines l join call_search_keys k on k.call_id = l.call_id where l.seq < 1048576`.execute(db);
      },
    },
    '0005_broadcasts': {
      async up(db: Kysely<any>) {
        // The shared broadcast log (SharedBroadcast): what every replica reads, such as the console's live feed. Only
        // PostgreSQL uses it; SQLite has the table so that both dialects keep one schema.
        await db.schema
          .createTable('broadcasts')
          .ifNotExists()
          .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
            dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
          .addColumn('topic', 'text', (c) => c.notNull())
          .addColumn('key', 'text')
          .addColumn('data', 'text', (c) => c.notNull())
          .addColumn('at', 'bigint', (c) => c.notNull())
          .execute();
        await index(db, 'broadcasts_topic_idx', 'broadcasts', ['topic', 'id']);
        await index(db, 'broadcasts_at_idx', 'broadcasts', ['at']);
      },
    },
    '0006_search_prefix_index': {
      async up(db: Kysely<any>) {
        if (dialect === 'postgres') return;
        // SQLite: the FTS5 table of 0004 again, with prefix indexes of 1 to 3 characters, so that a short word typed
        // in the search (`"th"*`) reads one doclist instead of merging those of every term it starts. The triggers of
        // 0004 name the table, so they keep it up to date; the rows are rebuilt from transcript_lines.
        await sql`drop table if exists transcript_search`.execute(db);
        await sql`create virtual table transcript_search using fts5(text, content='', contentless_delete=1, tokenize="unicode61 remove_diacritics 0", prefix='1 2 3')`.execute(db);
        await sql`insert into transcript_search (rowid, text)
            select k.key * 1048576 + l.seq, l.text from transcript_lines l join call_search_keys k on k.call_id = l.call_id where l.seq < 1048576`.execute(db);
      },
    },
    '0007_search_words_column': {
      async up(db: Kysely<any>) {
        if (dialect !== 'postgres') return;
        // PostgreSQL: each line's words stored beside it (a generated column, so every write path fills it) and
        // indexed, instead of the expression index of 0004. The index was only read for a word's lines; checking a
        // word on given lines (each call's lines, newest calls first, the plan the planner takes when that is cheaper
        // than the word's bitmap) parsed every line's text again, about 10 µs a line (`vilalo`, ended: 140 ms), and
        // now reads the stored words. Without positions (`strip`): no search needs them, and they would double the
        // column. Adding the column rewrites the table once, which holds its lock meanwhile (31 s for a million lines on
        // a 2-vCPU VM, the index included).
        await sql`alter table transcript_lines add column if not exists words tsvector generated always as (${sql.raw(PG_LINE_WORDS)}) stored`.execute(db);
        await sql`create index if not exists transcript_lines_words_idx on transcript_lines using gin (words)`.execute(db);
        await sql`drop index if exists transcript_lines_search_idx`.execute(db);
        // The search reads which words are common from the column's statistics, which a new column has none of until
        // autovacuum next analyzes the table (after a tenth of it has changed): without them every word is read from
        // the index first (p99 370 ms at 100,000 calls instead of 60). A sample of 30,000 lines, about a second.
        await sql`analyze transcript_lines (words)`.execute(db);
      },
    },
    '0008_call_leases': {
      async up(db: Kysely<any>) {
        // Which replica owns each live call (PostgreSQL, several replicas): a lease its owner renews every second or
        // so. `fence` grows on every change of owner, so a replica that lost a call can tell. `handover`: released
        // by a draining owner, for another replica to take at once. `call`: what the call was accepted with (JSON),
        // which whoever takes it over needs. On SQLite (one process) the table stays empty.
        await db.schema
          .createTable('call_leases')
          .ifNotExists()
          .addColumn('call_id', 'text', (c) => c.primaryKey().notNull())
          .addColumn('owner', 'text', (c) => c.notNull())
          .addColumn('fence', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .addColumn('handover', 'boolean', (c) => c.notNull().defaultTo(false))
          .addColumn('call', 'text', (c) => c.notNull())
          .execute();
        await index(db, 'call_leases_expires_idx', 'call_leases', ['expires_at']);
      },
    },
  };
}

/** PostgreSQL: a line's words for search, the expression `transcript_lines_search_idx` indexed (0004; 0007 drops it). */
export const PG_SEARCH_VECTOR = `to_tsvector('simple'::regconfig, regexp_replace(text, '[^[:alnum:]]+', ' ', 'g'))`;

/**
 * PostgreSQL: a line's words for search as the generated column `transcript_lines.words` stores them (0007): those of
 * PG_SEARCH_VECTOR without their positions.
 */
export const PG_LINE_WORDS = `strip(${PG_SEARCH_VECTOR})`;

function index(db: Kysely<any>, name: string, table: string, columns: string[]): Promise<void> {
  return db.schema.createIndex(name).ifNotExists().on(table).columns(columns).execute();
}

/**
 * Brings the schema up to date (Kysely's migrator: its own bookkeeping tables, a lock that serialises replicas
 * starting together on PostgreSQL, each migration in a transaction). Safe to run on every start.
 */
export async function migrateToLatest(db: Kysely<any>, dialect: StorageDialect): Promise<MigrationResult[]> {
  const migrations = storageMigrations(dialect);
  // On PostgreSQL the migration tables are named with their schema (the connection's current one): unnamed, Kysely
  // would take another schema's migration tables (another service's, in a shared database) for this one's.
  let migrationTableSchema: string | undefined;
  try {
    migrationTableSchema = dialect === 'postgres' ? await currentSchema(db) : undefined;
  } catch (error) {
    throw new Error(`storage migration set-up failed: ${errorMessage(error)}`, { cause: error });
  }
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations }, ...(migrationTableSchema ? { migrationTableSchema } : {}) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'set-up';
    throw new Error(`storage migration ${failed} failed: ${errorMessage(error)}`, { cause: error });
  }
  return results ?? [];
}

async function currentSchema(db: Kysely<any>): Promise<string | undefined> {
  const { rows } = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
  return rows[0]?.schema ?? undefined;
}
