import { Inject, Injectable } from '@nestjs/common';
import type { Selectable } from 'kysely';
import type { ToolInvocationStatus } from '#events';
import { ToolInvocations, type ToolInvocationRecord } from '../tool-invocations.js';
import { StorageHealth } from '../storage-health.js';
import { KYSELY } from '../storage.tokens.js';
import type { StorageDb, ToolInvocationsTable } from './schema.js';

/** Rows per INSERT, far below both dialects' bound-parameter limits (9 columns each). */
const BATCH = 200;

/** Tool runs on SQLite or PostgreSQL through Kysely (the `tool_invocations` table of the first migration). */
@Injectable()
export class SqlToolInvocations extends ToolInvocations {
  constructor(
    @Inject(KYSELY) private readonly db: StorageDb,
    private readonly health: StorageHealth,
  ) {
    super();
  }

  async upsert(records: ToolInvocationRecord[]): Promise<void> {
    // One statement may not touch a row twice (PostgreSQL refuses): the last record of each run wins.
    const latest = new Map<string, ToolInvocationRecord>();
    for (const record of records) {
      const key = `${record.callId}\u0000${record.toolCallId}`;
      latest.delete(key);
      latest.set(key, record);
    }
    const rows = [...latest.values()].map(toRow);
    if (rows.length === 0) return;
    await this.write(async () => {
      for (let i = 0; i < rows.length; i += BATCH) {
        await this.db
          .insertInto('tool_invocations')
          .values(rows.slice(i, i + BATCH))
          .onConflict((oc) =>
            oc
              .columns(['call_id', 'tool_call_id'])
              .doUpdateSet((eb) => ({
                name: eb.ref('excluded.name'),
                arguments: eb.ref('excluded.arguments'),
                result: eb.ref('excluded.result'),
                status: eb.ref('excluded.status'),
                finished_at: eb.ref('excluded.finished_at'),
              }))
              // A final status is never overwritten (a late or replayed `running` write changes nothing).
              .where('tool_invocations.status', '=', 'running'),
          )
          .execute();
      }
    });
  }

  async forCall(callId: string): Promise<ToolInvocationRecord[]> {
    const rows = await this.db
      .selectFrom('tool_invocations')
      .selectAll()
      .where('call_id', '=', callId)
      .orderBy('started_at', 'asc')
      .orderBy('id', 'asc')
      .execute();
    return rows.map(toRecord);
  }

  private async write<T>(run: () => Promise<T>): Promise<T> {
    try {
      const result = await run();
      this.health.recordSuccess();
      return result;
    } catch (error) {
      this.health.recordFailure(error);
      throw error;
    }
  }
}

function toRow(record: ToolInvocationRecord): ToolInvocationsTable {
  return {
    id: record.id,
    call_id: record.callId,
    tool_call_id: record.toolCallId,
    name: record.name,
    arguments: record.arguments,
    result: record.result,
    status: record.status,
    started_at: record.startedAt.getTime(),
    finished_at: record.finishedAt === null ? null : record.finishedAt.getTime(),
  };
}

function toRecord(row: Selectable<ToolInvocationsTable>): ToolInvocationRecord {
  return {
    id: row.id,
    callId: row.call_id,
    toolCallId: row.tool_call_id,
    name: row.name,
    arguments: row.arguments,
    result: row.result,
    status: row.status as ToolInvocationStatus,
    startedAt: new Date(Number(row.started_at)),
    finishedAt: row.finished_at === null ? null : new Date(Number(row.finished_at)),
  };
}
