import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConferenceLinks, type ConferenceLink } from './conference-links.js';
import type { RejectionReason } from '#calls';
import type { ConfigType } from '#config';
import type { CallContext } from '#events';
import { errorMessage } from '#resilience';
import { twilioConfig } from '#twilio';

/** SIP 480: the agent's leg of a conference that had already given up on it. */
const TEMPORARILY_UNAVAILABLE = 480;

/** What the conference topology says about an incoming Realtime call before it is answered. */
export interface LinkedCall {
  /** The call's context, with the numbers Twilio's signed voice webhook reported when it is a conference's leg. */
  context: CallContext;
  /** Set when the call must be turned away (its conference already gave up on the agent). */
  reject?: { statusCode: number; reason: RejectionReason };
}

/**
 * Ties an incoming Realtime call to its Twilio conference when it came through one (its `X-conferenceName`, whose
 * link holds the numbers the caller dialled and called from). The header alone proves nothing: only a conference
 * our signed voice webhook created counts. Best effort: without it the call is answered from its SIP headers, and
 * the transfer looks again when it needs the link.
 */
@Injectable()
export class ConferenceCallLinker {
  private readonly logger = new Logger(ConferenceCallLinker.name);

  constructor(
    private readonly links: ConferenceLinks,
    @Inject(twilioConfig.KEY) private readonly twilio: ConfigType<typeof twilioConfig>,
  ) {}

  async link(context: CallContext): Promise<LinkedCall> {
    const link = await this.linkConference(context);
    if (!link) return { context };
    const linked = withLinkNumbers(context, link);
    // The caller was told the agent could not come and hung up on: this leg must not talk to an empty conference.
    if (link.agentStatus === 'failed') return { context: linked, reject: { statusCode: TEMPORARILY_UNAVAILABLE, reason: 'agent_leg_failed' } };
    return { context: linked };
  }

  private async linkConference({ callId, conferenceName }: CallContext): Promise<ConferenceLink | undefined> {
    if (!conferenceName || !this.twilio.account) return undefined;
    try {
      const link = await this.links.linkOpenAICall(conferenceName, callId);
      if (link) this.logger.log(`[${callId}] the agent's leg of conference ${conferenceName}`);
      else this.logger.warn(`[${callId}] X-conferenceName names no conference of ours (or one tied to another call)`);
      return link;
    } catch (error) {
      this.logger.warn(`[${callId}] linking the call to its conference failed: ${errorMessage(error)}`);
      return undefined;
    }
  }
}

/**
 * The call's numbers as Twilio's signed voice webhook reported them: the number dialled (the agent's leg only
 * knows OpenAI's SIP URI), and the caller's when the link has it (the leg's `From` is what we presented).
 */
function withLinkNumbers(context: CallContext, link: ConferenceLink): CallContext {
  return {
    ...context,
    ...(link.dialledNumber ? { dialledNumber: link.dialledNumber } : {}),
    ...(link.callerNumber ? { callerNumber: link.callerNumber } : {}),
  };
}
