import { Inject, Injectable } from '@nestjs/common';
import type { Selectable } from 'kysely';
import type { TransferStatus } from '#events';
import {
  ConferenceLinks,
  type AgentLegStatus,
  type ConferenceLink,
  type ConferenceLinkChanges,
  type NewConferenceLink,
} from './conference-links.js';
import { KYSELY, StorageHealth, type ConferenceLinksTable, type StorageDb } from '#storage';

/** A human leg in one of these is in progress: a new attempt must not ring a second person. */
const HUMAN_IN_PROGRESS: TransferStatus[] = ['dialing', 'joined'];

/** Conference links on SQLite or PostgreSQL (the `conference_links` table of migration 0002). */
@Injectable()
export class SqlConferenceLinks extends ConferenceLinks {
  constructor(
    @Inject(KYSELY) private readonly db: StorageDb,
    private readonly health: StorageHealth,
  ) {
    super();
  }

  async create(link: NewConferenceLink): Promise<boolean> {
    const at = link.createdAt.getTime();
    const result = await this.health.track(() =>
      this.db
        .insertInto('conference_links')
        .values({
          conference_name: link.conferenceName,
          conference_sid: null,
          caller_call_sid: link.callerCallSid,
          caller_number: link.callerNumber,
          dialled_number: link.dialledNumber,
          call_token: link.callToken,
          agent_call_sid: null,
          agent_status: 'dialing',
          openai_call_id: null,
          human_attempt: null,
          human_call_sid: null,
          human_status: null,
          created_at: at,
          updated_at: at,
        })
        .onConflict((oc) => oc.column('conference_name').doNothing())
        .executeTakeFirst(),
    );
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  async get(conferenceName: string): Promise<ConferenceLink | undefined> {
    const row = await this.db.selectFrom('conference_links').selectAll().where('conference_name', '=', conferenceName).executeTakeFirst();
    return row ? toLink(row) : undefined;
  }

  async linkOpenAICall(conferenceName: string, openaiCallId: string): Promise<ConferenceLink | undefined> {
    await this.health.track(() =>
      this.db
        .updateTable('conference_links')
        .set({ openai_call_id: openaiCallId, updated_at: Date.now() })
        .where('conference_name', '=', conferenceName)
        .where((eb) => eb.or([eb('openai_call_id', 'is', null), eb('openai_call_id', '=', openaiCallId)]))
        .execute(),
    );
    const link = await this.get(conferenceName);
    return link?.openaiCallId === openaiCallId ? link : undefined;
  }

  async update(conferenceName: string, changes: ConferenceLinkChanges): Promise<void> {
    const set: Partial<ConferenceLinksTable> = {};
    if (changes.conferenceSid !== undefined) set.conference_sid = changes.conferenceSid;
    if (changes.agentCallSid !== undefined) set.agent_call_sid = changes.agentCallSid;
    if (changes.agentStatus !== undefined) set.agent_status = changes.agentStatus;
    if (Object.keys(set).length === 0) return;
    await this.health.track(() =>
      this.db
        .updateTable('conference_links')
        .set({ ...set, updated_at: Date.now() })
        .where('conference_name', '=', conferenceName)
        .execute(),
    );
  }

  async moveAgent(conferenceName: string, from: AgentLegStatus[], status: AgentLegStatus): Promise<boolean> {
    if (from.length === 0) return false;
    const result = await this.health.track(() =>
      this.db
        .updateTable('conference_links')
        .set({ agent_status: status, updated_at: Date.now() })
        .where('conference_name', '=', conferenceName)
        .where('agent_status', 'in', from)
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) === 1;
  }

  async beginHumanAttempt(conferenceName: string, attempt: string): Promise<boolean> {
    const result = await this.health.track(() =>
      this.db
        .updateTable('conference_links')
        .set({ human_attempt: attempt, human_status: 'dialing', human_call_sid: null, updated_at: Date.now() })
        .where('conference_name', '=', conferenceName)
        .where((eb) => eb.or([eb('human_status', 'is', null), eb('human_status', 'not in', HUMAN_IN_PROGRESS)]))
        .executeTakeFirst(),
    );
    return Number(result.numUpdatedRows) === 1;
  }

  async updateHumanAttempt(
    conferenceName: string,
    attempt: string,
    changes: { status?: TransferStatus; callSid?: string },
    from?: TransferStatus[],
  ): Promise<boolean> {
    const set: Partial<ConferenceLinksTable> = {};
    if (changes.status !== undefined) set.human_status = changes.status;
    if (changes.callSid !== undefined) set.human_call_sid = changes.callSid;
    if (from !== undefined && from.length === 0) return false;
    const result = await this.health.track(() => {
      let query = this.db
        .updateTable('conference_links')
        .set({ ...set, updated_at: Date.now() })
        .where('conference_name', '=', conferenceName)
        .where('human_attempt', '=', attempt);
      if (from !== undefined) query = query.where('human_status', 'in', from);
      return query.executeTakeFirst();
    });
    return Number(result.numUpdatedRows) === 1;
  }

  async deleteCreatedBefore(cutoff: Date): Promise<number> {
    const result = await this.health.track(() =>
      this.db.deleteFrom('conference_links').where('created_at', '<', cutoff.getTime()).executeTakeFirst(),
    );
    return Number(result.numDeletedRows);
  }
}

function toLink(row: Selectable<ConferenceLinksTable>): ConferenceLink {
  return {
    conferenceName: row.conference_name,
    conferenceSid: row.conference_sid,
    callerCallSid: row.caller_call_sid,
    callerNumber: row.caller_number,
    dialledNumber: row.dialled_number,
    callToken: row.call_token,
    agentCallSid: row.agent_call_sid,
    agentStatus: row.agent_status as AgentLegStatus,
    openaiCallId: row.openai_call_id,
    humanAttempt: row.human_attempt,
    humanCallSid: row.human_call_sid,
    humanStatus: row.human_status as TransferStatus | null,
    createdAt: new Date(Number(row.created_at)),
    updatedAt: new Date(Number(row.updated_at)),
  };
}
