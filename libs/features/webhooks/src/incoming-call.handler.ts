import { Inject, Injectable, Logger } from '@nestjs/common';
import { WebhookError, WebhookErrorCode } from './webhooks.errors.js';
import { CallsService, parseCallContext, type IncomingCallOutcome } from '#calls';
import type { ConfigType } from '#config';
import type { CallContext } from '#events';
import { ConferenceLinks, type ConferenceLink } from '#storage';
import { TenantProfiles } from '#tenants';
import { twilioConfig } from '#twilio';

const CALL_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** SIP 480: the agent's leg of a conference that had already given up on it. */
const TEMPORARILY_UNAVAILABLE = 480;

/**
 * `realtime.call.incoming`: read the call, tie it to its Twilio conference when it came through one (its
 * `X-conferenceName`, whose link holds the numbers the caller dialled and called from), choose its agent, accept it
 * (or reject it, as the tenants file says, or when its conference already gave up on the agent).
 */
@Injectable()
export class IncomingCallHandler {
  private readonly logger = new Logger(IncomingCallHandler.name);

  constructor(
    private readonly calls: CallsService,
    private readonly tenants: TenantProfiles,
    private readonly conferenceLinks: ConferenceLinks,
    @Inject(twilioConfig.KEY) private readonly twilio: ConfigType<typeof twilioConfig>,
  ) {}

  async handle(event: Record<string, unknown>): Promise<IncomingCallOutcome> {
    const data = event.data as { call_id?: unknown; sip_headers?: unknown } | undefined;
    const callId = typeof data === 'object' && data !== null ? data.call_id : undefined;
    if (typeof callId !== 'string' || !CALL_ID.test(callId)) {
      throw new WebhookError(WebhookErrorCode.MalformedBody, 'realtime.call.incoming without a valid data.call_id');
    }
    const parsed = parseCallContext(callId, data?.sip_headers);
    // First the conference: on the agent's leg `To` is OpenAI's SIP URI, the number the caller dialled is on the link.
    const link = await this.linkConference(parsed);
    const context = link ? withLinkNumbers(parsed, link) : parsed;
    if (link?.agentStatus === 'failed') {
      // The caller was told the agent could not come and hung up on: this leg must not talk to an empty conference.
      return this.calls.rejectIncoming(context, TEMPORARILY_UNAVAILABLE, 'agent_leg_failed');
    }
    const choice = this.tenants.choose(context);
    if (choice.kind === 'reject') return this.calls.rejectIncoming(context, choice.statusCode);
    return this.calls.acceptIncoming(context, choice.profile);
  }

  /**
   * The conference the call's SIP leg was dialled from, found by its `X-conferenceName` and tied to this call (the
   * header alone proves nothing: only a conference our signed voice webhook created counts). Best effort: without
   * it the call is answered from its SIP headers, and the transfer tool looks again when it needs the link.
   */
  private async linkConference({ callId, conferenceName }: CallContext): Promise<ConferenceLink | undefined> {
    if (!conferenceName || !this.twilio.account) return undefined;
    try {
      const link = await this.conferenceLinks.linkOpenAICall(conferenceName, callId);
      if (link) this.logger.log(`[${callId}] the agent's leg of conference ${conferenceName}`);
      else this.logger.warn(`[${callId}] X-conferenceName names no conference of ours (or one tied to another call)`);
      return link;
    } catch (error) {
      this.logger.warn(`[${callId}] linking the call to its conference failed: ${(error as Error).message}`);
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
