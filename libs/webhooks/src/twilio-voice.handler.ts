import { Inject, Injectable, Logger } from '@nestjs/common';
import { CALL_SID, param } from './twilio-form.js';
import { WebhookError, WebhookErrorCode } from './webhooks.errors.js';
import { toE164 } from '#calls';
import type { ConfigType } from '#config';
import { ConferenceLinks } from '#storage';
import {
  AGENT_LABEL,
  TwilioRequestError,
  TwilioVoice,
  agentSipUri,
  conferenceTwiml,
  twilioConfig,
  unavailableTwiml,
  type TwilioParams,
} from '#twilio';

/**
 * `POST /twilio/voice` (a verified Twilio voice webhook): the caller is held in a conference named after their
 * CallSid, and the agent — OpenAI's SIP connector, with `X-conferenceName` — is added to it with the Participants
 * API, presenting the caller's number thanks to the webhook's `CallToken`. The link between the two sides is stored
 * first, so whichever replica receives OpenAI's webhook or the conference events finds it (when storage is down the
 * call is still answered, without warm transfer). When the agent cannot be added, the caller hears an apology
 * instead of silence.
 */
@Injectable()
export class TwilioVoiceHandler {
  private readonly logger = new Logger(TwilioVoiceHandler.name);

  constructor(
    private readonly voice: TwilioVoice,
    private readonly links: ConferenceLinks,
    @Inject(twilioConfig.KEY) private readonly config: ConfigType<typeof twilioConfig>,
  ) {}

  /** The TwiML to answer with. Throws `WebhookError` (400) without a valid CallSid. */
  async answer(params: TwilioParams): Promise<string> {
    const account = this.config.account;
    if (!account) throw new WebhookError(WebhookErrorCode.TwilioNotConfigured, 'Twilio is not configured');
    const callSid = param(params, 'CallSid');
    if (!callSid || !CALL_SID.test(callSid)) {
      throw new WebhookError(WebhookErrorCode.MalformedBody, 'voice webhook without a valid CallSid');
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
      this.logger.error(`[${name}] storing the conference link failed, the call goes on without transfer: ${(error as Error).message}`);
    }

    try {
      const agent = await this.voice.addParticipant(name, {
        from: callerNumber ?? dialledNumber ?? 'anonymous',
        to: agentSipUri(account.openaiProjectId, name),
        label: AGENT_LABEL,
        ...(callToken ? { callToken } : {}),
        earlyMedia: false,
        beep: 'false',
        statusCallback: `${callbackUrl}?${new URLSearchParams({ conference: name, leg: 'agent' })}`,
        statusCallbackEvent: ['completed'],
        statusCallbackMethod: 'POST',
      });
      if (stored) {
        await this.links
          .update(name, { agentCallSid: agent.callSid, ...(agent.conferenceSid ? { conferenceSid: agent.conferenceSid } : {}) })
          .catch((error: Error) => this.logger.warn(`[${name}] recording the agent's leg failed: ${error.message}`));
      }
      this.logger.log(`[${name}] caller held in conference, agent leg ${agent.callSid} dialling OpenAI`);
      return conferenceTwiml(name, callbackUrl);
    } catch (error) {
      this.logger.warn(`[${name}] adding the agent to the conference failed, the caller hears an apology: ${TwilioRequestError.from(error).message}`);
      if (stored) await this.links.moveAgent(name, ['dialing'], 'failed').catch(() => undefined);
      return unavailableTwiml();
    }
  }
}
