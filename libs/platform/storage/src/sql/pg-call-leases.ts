import { sql } from 'kysely';
import { CallLeases, type TakenCall } from '../call-leases.js';
import type { StorageDb } from './schema.js';

/** The database's clock in milliseconds since the epoch (the statement's own time, not the transaction's). */
const NOW_MS = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/**
 * `CallLeases` on PostgreSQL. Every operation is one statement; taking over locks the expired rows it takes
 * (`for update skip locked`), so replicas polling together each take different calls and never the same one twice.
 */
export class PostgresCallLeases extends CallLeases {
  readonly shared = true;

  constructor(private readonly db: StorageDb) {
    super();
  }

  async acquire(callId: string, owner: string, ttlMs: number, call: string): Promise<void> {
    await sql`insert into call_leases (call_id, owner, fence, expires_at, handover, call)
      values (${callId}, ${owner}, 1, ${NOW_MS} + ${ttlMs}, false, ${call})
      on conflict (call_id) do update set owner = excluded.owner, fence = call_leases.fence + 1,
        expires_at = excluded.expires_at, handover = false`.execute(this.db);
  }

  async renew(owner: string, callIds: readonly string[], ttlMs: number): Promise<string[]> {
    if (callIds.length === 0) return [];
    const { rows } = await sql<{ call_id: string }>`update call_leases set expires_at = ${NOW_MS} + ${ttlMs}
      where owner = ${owner} and not handover and call_id = any(${[...callIds]}::text[])
      returning call_id`.execute(this.db);
    const kept = new Set(rows.map((r) => r.call_id));
    return callIds.filter((id) => !kept.has(id));
  }

  async takeExpired(owner: string, ttlMs: number, limit: number): Promise<TakenCall[]> {
    const { rows } = await sql<{ call_id: string; fence: string | number; handover: boolean; call: string }>`
      update call_leases l set owner = ${owner}, fence = l.fence + 1, expires_at = ${NOW_MS} + ${ttlMs}, handover = false
      from (select call_id, handover from call_leases where expires_at <= ${NOW_MS}
            order by expires_at limit ${limit} for update skip locked) e
      where l.call_id = e.call_id
      returning l.call_id, l.fence, e.handover, l.call`.execute(this.db);
    return rows.map((r) => ({ callId: r.call_id, fence: Number(r.fence), cause: r.handover ? 'handover' : 'expired', call: r.call }));
  }

  async release(owner: string, callIds: readonly string[]): Promise<void> {
    if (callIds.length === 0) return;
    await sql`update call_leases set expires_at = 0, handover = true
      where owner = ${owner} and call_id = any(${[...callIds]}::text[])`.execute(this.db);
  }

  async remove(callId: string): Promise<void> {
    await this.db.deleteFrom('call_leases').where('call_id', '=', callId).execute();
  }
}
