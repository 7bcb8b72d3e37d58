import { Injectable } from '@nestjs/common';
import type { TransferStatus } from '#events';
import {
  ConferenceLinks,
  type AgentLegStatus,
  type ConferenceLink,
  type ConferenceLinkChanges,
  type NewConferenceLink,
} from './conference-links.js';

/**
 * Conference links in this process only, with the SQL adapter's semantics (the same suite runs on both): for unit
 * tests and benchmarks that compose modules without a database. Not for a deployment, where several replicas share
 * the links.
 */
@Injectable()
export class MemoryConferenceLinks extends ConferenceLinks {
  private readonly links = new Map<string, ConferenceLink>();

  async create(link: NewConferenceLink): Promise<boolean> {
    if (this.links.has(link.conferenceName)) return false;
    this.links.set(link.conferenceName, {
      ...link,
      conferenceSid: null,
      agentCallSid: null,
      agentStatus: 'dialing',
      openaiCallId: null,
      humanAttempt: null,
      humanCallSid: null,
      humanStatus: null,
      updatedAt: link.createdAt,
    });
    return true;
  }

  async get(conferenceName: string): Promise<ConferenceLink | undefined> {
    const link = this.links.get(conferenceName);
    return link ? { ...link } : undefined;
  }

  async linkOpenAICall(conferenceName: string, openaiCallId: string): Promise<ConferenceLink | undefined> {
    const link = this.links.get(conferenceName);
    if (!link || (link.openaiCallId !== null && link.openaiCallId !== openaiCallId)) return undefined;
    this.change(link, { openaiCallId });
    return { ...link };
  }

  async update(conferenceName: string, changes: ConferenceLinkChanges): Promise<void> {
    const link = this.links.get(conferenceName);
    if (!link) return;
    const defined = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined));
    if (Object.keys(defined).length > 0) this.change(link, defined);
  }

  async moveAgent(conferenceName: string, from: AgentLegStatus[], status: AgentLegStatus): Promise<boolean> {
    const link = this.links.get(conferenceName);
    if (!link || !from.includes(link.agentStatus)) return false;
    this.change(link, { agentStatus: status });
    return true;
  }

  async beginHumanAttempt(conferenceName: string, attempt: string): Promise<boolean> {
    const link = this.links.get(conferenceName);
    if (!link || link.humanStatus === 'dialing' || link.humanStatus === 'joined') return false;
    this.change(link, { humanAttempt: attempt, humanStatus: 'dialing', humanCallSid: null });
    return true;
  }

  async updateHumanAttempt(
    conferenceName: string,
    attempt: string,
    changes: { status?: TransferStatus; callSid?: string },
    from?: TransferStatus[],
  ): Promise<boolean> {
    const link = this.links.get(conferenceName);
    if (!link || link.humanAttempt !== attempt) return false;
    if (from !== undefined && (link.humanStatus === null || !from.includes(link.humanStatus))) return false;
    this.change(link, {
      ...(changes.status !== undefined ? { humanStatus: changes.status } : {}),
      ...(changes.callSid !== undefined ? { humanCallSid: changes.callSid } : {}),
    });
    return true;
  }

  async deleteCreatedBefore(cutoff: Date): Promise<number> {
    let deleted = 0;
    for (const [name, link] of this.links) {
      if (link.createdAt.getTime() < cutoff.getTime()) {
        this.links.delete(name);
        deleted++;
      }
    }
    return deleted;
  }

  private change(link: ConferenceLink, changes: Partial<ConferenceLink>): void {
    Object.assign(link, changes, { updatedAt: new Date() });
  }
}
