import { Injectable, type OnModuleInit } from '@nestjs/common';
import { ConferenceLinks } from './conference-links.js';
import { CallEndReasons, type ClosingCall, type EndReasonResolver } from '#calls';
import type { CallEndReason } from '#events';

/**
 * OpenAI closing the agent's leg of a conference is a transfer when the human joined, even when that was seen by
 * another replica (which ended the agent's leg without being able to tell this one): the shared link says so.
 */
@Injectable()
export class ConferenceEndReason implements EndReasonResolver, OnModuleInit {
  constructor(
    private readonly links: ConferenceLinks,
    private readonly endReasons: CallEndReasons,
  ) {}

  onModuleInit(): void {
    this.endReasons.register(this);
  }

  async resolve({ callId, reason, context }: ClosingCall): Promise<CallEndReason | undefined> {
    const name = context?.conferenceName;
    if (reason !== 'remote_closed' || !name) return undefined;
    const link = await this.links.get(name);
    return link?.openaiCallId === callId && link.humanStatus === 'joined' ? 'transferred' : undefined;
  }
}
