import { Inject, Injectable } from '@nestjs/common';
import type { Selectable } from 'kysely';
import { CallEvents, type CallEventKind, type CallEventRecord } from '../call-events.js';
import { StorageHealth } from '../storage-health.js';
import { KYSELY } from '../storage.tokens.js';
import type { CallEventsTable, StorageDb } from './schema.js';

/** Rows per INSERT, far below both dialects' bound-parameter limits (5 columns each). */
const BATCH = 200;

/** Timeline events on SQLite or PostgreSQL through Kysely (the `call_events` table of migration 0004). */
@Injectable()
export class SqlCallEvents extends CallEvents {
  constructor(
    @Inject(KYSELY) private readonly db: StorageDb,
    private readonly health: StorageHealth,
  ) {
    super();
  }

  async append(events: CallEventRecord[]): Promise<void> {
    if (events.length === 0) return;
    const rows = events.map(toRow);
    await this.health.track(async () => {
      // Insert-or-ignore: the first append of an event id wins, and its `id` keeps the order it was appended in.
      const insert = async (executor: StorageDb) => {
        for (let i = 0; i < rows.length; i += BATCH) {
          await executor
            .insertInto('call_events')
            .values(rows.slice(i, i + BATCH))
            .onConflict((oc) => oc.columns(['call_id', 'event_id']).doNothing())
            .execute();
        }
      };
      if (rows.length <= BATCH) await insert(this.db);
      else await this.db.transaction().execute(insert);
    });
  }

  async forCall(callId: string): Promise<CallEventRecord[]> {
    const rows = await this.db
      .selectFrom('call_events')
      .selectAll()
      .where('call_id', '=', callId)
      .orderBy('at', 'asc')
      .orderBy('id', 'asc')
      .execute();
    return rows.map(toRecord);
  }
}

function toRow(event: CallEventRecord): Omit<CallEventsTable, 'id'> {
  return { call_id: event.callId, event_id: event.eventId, kind: event.kind, at: event.at.getTime(), data: JSON.stringify(event.data) };
}

function toRecord(row: Selectable<CallEventsTable>): CallEventRecord {
  let data: Record<string, unknown> = {};
  try {
    const value: unknown = JSON.parse(row.data);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) data = value as Record<string, unknown>;
  } catch {
    // A row not written by append: no data.
  }
  return { callId: row.call_id, eventId: row.event_id, kind: row.kind as CallEventKind, at: new Date(Number(row.at)), data };
}
