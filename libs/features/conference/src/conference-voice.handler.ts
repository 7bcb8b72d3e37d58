import { Inject, Injectable, Logger } from '@nestjs/common';
import { AgentLegs } from './agent-leg.js';
import { ConferenceLinks } from './conference-links.js';
import { AGENT_LABEL, CONFERENCE_EVENTS, agentSipUri, conferenceTwiml, unavailableTwiml } from './conference-twiml.js';
import { toE164 } from '#calls';
import type { ConfigType } from '#config';
import { errorMessage } from '#resilience';
import { CALL_SID, TwilioRequestError, TwilioVoice, param, twilioConfig, type TwilioParams } from '#twilio';

/** A voice webhook that is signed but cannot be answered (no valid CallSid, or Twilio not configured). */
export class InvalidVoiceWebhook extends Error {
  constructor(
    readonly why: 'malformed' | 'not_configured',
    detail: string,
  ) {
    super(detail);
    this.name = 'InvalidVoiceWebhook';
  }
}

/**
 * `POST /twilio/voice` (a verified Twilio voice webhook): the caller is held in a conference named after their
 * CallSid, and the agent — OpenAI's SIP connector, with `X-conferenceName` — is added to it with the Participants
 * API, presenting the caller's number thanks to the webhook's `CallToken`. The link between the two sides is stored
 * first, so whichever replica receives OpenAI's webhook or the conference events finds it (when storage is down the
 * call is still answered, without warm transfer). When the agent cannot be added, the caller hears an apology
 * instead of silence, and the link says so: a leg Twilio placed anyway is refused when its OpenAI webhook comes,
 * ended when it joins, and ended at once when it was already answered. Twilio waits 15 s for the TwiML: the request
 * for the agent is tried once, within `WEBHOOK_REQUEST_BUDGET_MS`.
 */
@Injectable()
export class ConferenceVoiceHandler {
  private readonly logger = new Logger(ConferenceVoiceHandler.name);

  constructor(
    private readonly voice: TwilioVoice,
    private readonly links: ConferenceLinks,
    private readonly agentLegs: AgentLegs,
    @Inject(twilioConfig.KEY) private readonly config: ConfigType<typeof twilioConfig>,
  ) {}

  /** The TwiML to answer with. Throws `InvalidVoiceWebhook` without a valid CallSid (the webhook answers 400). */
  async answer(params: TwilioParams): Promise<string> {
    const account = this.config.account;
    if (!account) throw new InvalidVoiceWebhook('not_configured', 'Twilio is not configured');
    const callSid = param(params, 'CallSid');
    if (!callSid || !CALL_SID.test(callSid)) {
      throw new InvalidVoiceWebhook('malformed', 'voice webhook without a valid CallSid');
    }
    const name = callSid;
    const callbackUrl = `${account.publicBaseUrl}/twilio/conference-events`;
    const callerNumber = toE164(param(params, 'From')) ?? null;
    const dialledNumber = toE164(param(params, 'To')) ?? null;
    const callToken = param(params, 'CallToken') ?? null;

    let stored = true;
    try {
      const created = await this.links.create({ conferenceName: name, callerCallSid: callSid, callerNumber, dialledNumber, callToken, createdAt: new Date() });
      if (!created) {
        // A repeated delivery: the first one added (or failed to add) the agent; answer as it did.
        const existing = await this.links.get(name).catch(() => undefined);
        this.logger.log(`[${name}] voice webhook repeated, nothing added`);
        return existing?.agentStatus === 'failed' ? unavailableTwiml() : conferenceTwiml(name, callbackUrl);
      }
    } catch (error) {
      // Answering the call matters more: the agent still takes it, only the warm transfer will be unavailable.
      stored = false;
      this.logger.error(`[${name}] storing the conference link failed, the call goes on without transfer: ${errorMessage(error)}`);
    }

    try {
      const agent = await this.voice.addParticipant(
        name,
        {
          from: callerNumber ?? dialledNumber ?? 'anonymous',
          to: agentSipUri(account.openaiProjectId, name),
          label: AGENT_LABEL,
          ...(callToken ? { callToken } : {}),
          earlyMedia: false,
          beep: 'false',
          statusCallback: `${callbackUrl}?${new URLSearchParams({ conference: name, leg: 'agent' })}`,
          statusCallbackEvent: ['completed'],
          statusCallbackMethod: 'POST',
          // The same as the caller's TwiML (Twilio keeps the first given): the agent's join is reported even when the
          // caller never joins, which is how a leg placed despite a failure is found and ended.
          conferenceStatusCallback: callbackUrl,
          conferenceStatusCallbackEvent: [...CONFERENCE_EVENTS],
          conferenceStatusCallbackMethod: 'POST',
        },
        { withinWebhook: true },
      );
      if (stored) {
        await this.links
          .update(name, { agentCallSid: agent.callSid, ...(agent.conferenceSid ? { conferenceSid: agent.conferenceSid } : {}) })
          .catch((error: unknown) => this.logger.warn(`[${name}] recording the agent's leg failed: ${errorMessage(error)}`));
      }
      this.logger.log(`[${name}] caller held in conference, agent leg ${agent.callSid} dialling OpenAI`);
      return conferenceTwiml(name, callbackUrl);
    } catch (error) {
      this.logger.warn(`[${name}] adding the agent to the conference failed, the caller hears an apology: ${TwilioRequestError.from(error).message}`);
      if (stored) await this.giveUpOnAgent(name);
      return unavailableTwiml();
    }
  }

  /**
   * The agent's leg counts as failed, so that OpenAI's webhook for a leg Twilio placed anyway (a timeout or a 5xx
   * does not prove it did not) is refused, and its join ends it. When its call was already answered (OpenAI's webhook
   * came while we waited, or it even joined), it is ended now — in the background: Twilio is waiting for the TwiML.
   */
  private async giveUpOnAgent(name: string): Promise<void> {
    try {
      if (!(await this.links.moveAgent(name, ['dialing', 'joined'], 'failed'))) return;
      const link = await this.links.get(name);
      if (!link?.openaiCallId && !link?.agentCallSid) return;
      const tag = link.openaiCallId ?? name;
      this.logger.warn(`[${tag}] the agent's leg was answered although adding it failed: ending it`);
      void this.agentLegs.end(tag, { callSid: link.agentCallSid, openaiCallId: link.openaiCallId });
    } catch (error) {
      this.logger.warn(`[${name}] recording the agent's failure failed: ${errorMessage(error)}`);
    }
  }
}
