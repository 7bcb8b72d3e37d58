import { Injectable, Logger } from '@nestjs/common';
import { ToolError, type ToolContext } from '../tool.types.js';
import { ConferenceTransfer } from './conference-transfer.js';
import { HumanTransfer } from './human-transfer.js';
import { SipReferTransfer } from './sip-refer-transfer.js';
import type { ConferenceLink } from '#storage';

const FAILED_TO_START =
  'The transfer could not be started. Apologise to the caller, and offer to help another way or to take a message.';

/** Which way a call is transferred: into its Twilio conference, or by SIP REFER. */
export type TransferRoute = { kind: 'conference'; link: ConferenceLink } | { kind: 'refer' };

/**
 * The `transfer_to_human` strategy, chosen per call: a warm transfer into the call's conference when the call came
 * through the Twilio conference topology (its `X-conferenceName` names a conference this service set up, tied to
 * this call) and Twilio is configured with a human to dial; a SIP REFER otherwise.
 */
@Injectable()
export class PerCallHumanTransfer extends HumanTransfer {
  private readonly logger = new Logger(PerCallHumanTransfer.name);

  constructor(
    private readonly refer: SipReferTransfer,
    private readonly conference: ConferenceTransfer,
  ) {
    super();
  }

  get configured(): boolean {
    return this.refer.configured || this.conference.configured;
  }

  get maxDurationMs(): number {
    return Math.max(this.refer.maxDurationMs, this.conference.maxDurationMs);
  }

  async route(context: ToolContext): Promise<TransferRoute> {
    if (!this.conference.canTransfer(context) || !context.sip.conferenceName) return { kind: 'refer' };
    let link: ConferenceLink | undefined;
    try {
      link = await this.conference.linkOf(context);
    } catch (error) {
      // The call may well be in a conference: a REFER would not reach the human. Better to say it failed.
      this.logger.warn(`[${context.callId}] reading the call's conference failed: ${(error as Error).message}`);
      throw new ToolError(FAILED_TO_START, 'transfer_failed');
    }
    return link ? { kind: 'conference', link } : { kind: 'refer' };
  }

  async transfer(context: ToolContext, reason: string | undefined): Promise<object | void> {
    const route = await this.route(context);
    this.logger.log(`[${context.callId}] transfer_to_human by ${route.kind === 'conference' ? 'Twilio conference' : 'SIP REFER'}`);
    return route.kind === 'conference' ? this.conference.transferIn(route.link, context, reason) : this.refer.transfer(context);
  }
}
