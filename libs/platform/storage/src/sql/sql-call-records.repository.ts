import { Inject, Injectable } from '@nestjs/common';
import type { ExpressionBuilder, Selectable } from 'kysely';
import {
  CallRecordsRepository,
  type CallPage,
  type CallEnd,
  type CallQuery,
  type CallRecord,
  type CallRecordWrite,
  type CallStatus,
  type NewCallRecord,
  type Speaker,
  type TranscriptLineRecord,
} from '../call-records.repository.js';
import { StorageHealth } from '../storage-health.js';
import { KYSELY } from '../storage.tokens.js';
import { CompiledOnce } from './compiled-once.js';
import type { CallsTable, StorageDb, StorageSchema, TranscriptLinesTable } from './schema.js';

/** Rows per INSERT: far below SQLite's and PostgreSQL's bound-parameter limits. */
const LINE_BATCH = 500;
/** Calls per purge transaction, so a first purge of years of data never holds a long lock. */
const PURGE_BATCH = 500;
/** The largest page listCalls returns, whatever is asked. */
export const MAX_PAGE_SIZE = 1000;

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
  }

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

    let select = this.db.selectFrom('calls').selectAll();
    if (query.number !== undefined) {
      const number = query.number;
      select = select.where((eb) =>
        eb.or([eb('caller_number', '=', number), eb('dialled_number', '=', number), eb('forwarded_from', '=', number)]),
      );
    }
    if (query.profile !== undefined) select = select.where('profile', '=', query.profile);
    if (query.from !== undefined) select = select.where('accepted_at', '>=', query.from.getTime());
    if (query.to !== undefined) select = select.where('accepted_at', '<', query.to.getTime());
    if (after) {
      select = select.where(({ eb, refTuple, tuple }: ExpressionBuilder<StorageSchema, 'calls'>) =>
        eb(refTuple('accepted_at', 'call_id'), '<', tuple(after.acceptedAt, after.callId)),
      );
    }
    const rows = await select
      .orderBy('accepted_at', 'desc')
      .orderBy('call_id', 'desc')
      .limit(limit + 1)
      .execute();

    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      calls: page.map(toCallRecord),
      ...(rows.length > limit && last ? { nextCursor: encodeCursor(last.accepted_at, last.call_id) } : {}),
    };
  }

  async transcript(callId: string): Promise<TranscriptLineRecord[]> {
    const rows = await this.db
      .selectFrom('transcript_lines')
      .selectAll()
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
