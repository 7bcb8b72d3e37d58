import { Inject, Injectable } from '@nestjs/common';
import twilio from 'twilio';
import { TwilioRequestClient } from './twilio-request-client.js';
import { twilioConfig } from './twilio.config.js';
import { TwilioErrorCode, TwilioRequestError } from './twilio.errors.js';
import type { ConfigType } from '#config';

/** 429s the SDK retries (with jittered backoff) before giving up; no other status is retried. */
const MAX_429_RETRIES = 3;
/** The longest pause between two of those retries. */
const MAX_RETRY_DELAY_MS = 1000;
/**
 * The longest a request made while Twilio waits for a webhook's answer may take: Twilio gives up on a webhook after
 * 15 s, and the caller must hear TwiML (an apology, at worst), not an error.
 */
export const WEBHOOK_REQUEST_BUDGET_MS = 8000;

/** A participant to add to a conference (the Participants API's parameters, by their SDK names). */
export interface NewParticipant {
  from: string;
  to: string;
  label: string;
  callToken?: string;
  earlyMedia?: boolean;
  beep?: 'true' | 'false' | 'onEnter' | 'onExit';
  /** Seconds the phone rings before Twilio gives up (no-answer). */
  timeout?: number;
  endConferenceOnExit?: boolean;
  statusCallback?: string;
  statusCallbackEvent?: Array<'initiated' | 'ringing' | 'answered' | 'completed'>;
  statusCallbackMethod?: 'POST';
  /** The conference's own status callback (Twilio keeps the first one given, by a participant or by TwiML). */
  conferenceStatusCallback?: string;
  conferenceStatusCallbackEvent?: string[];
  conferenceStatusCallbackMethod?: 'POST';
}

export interface AddedParticipant {
  /** The participant's own call (`CA…`). */
  callSid: string;
  conferenceSid?: string;
  status?: string;
}

export interface RequestOptions {
  /**
   * The request is made while Twilio waits for our answer to its webhook: one attempt (no 429 retry), within
   * `WEBHOOK_REQUEST_BUDGET_MS` even when TWILIO_REQUEST_TIMEOUT_MS is longer.
   */
  withinWebhook?: boolean;
}

/**
 * Twilio Programmable Voice through the official SDK: adding conference participants and ending calls. Requests
 * time out after TWILIO_REQUEST_TIMEOUT_MS; a 429 (nothing was done) is retried by the SDK, nothing else is — a 5xx
 * on a request that creates a call may have created it. A request made while Twilio waits for a webhook's answer
 * (`withinWebhook`) is tried once, within `WEBHOOK_REQUEST_BUDGET_MS`. Every failure is a `TwilioRequestError`.
 */
@Injectable()
export class TwilioVoice {
  private readonly client?: twilio.Twilio;
  /** The same account, for requests inside a webhook's answer: no retry, a shorter timeout. */
  private readonly webhookClient?: twilio.Twilio;

  constructor(@Inject(twilioConfig.KEY) private readonly config: ConfigType<typeof twilioConfig>) {
    const account = config.account;
    if (!account) return;
    const client = (options: ConstructorParameters<typeof TwilioRequestClient>[1]) =>
      twilio(account.sid, account.authToken, {
        httpClient: new TwilioRequestClient(config.apiBaseUrl, options),
        // Never the SDK's debug logging (TWILIO_LOG_LEVEL=debug would print request parameters: phone numbers).
        logLevel: 'info',
      });
    this.client = client({ autoRetry: true, maxRetries: MAX_429_RETRIES, maxRetryDelay: MAX_RETRY_DELAY_MS, timeout: config.requestTimeoutMs });
    this.webhookClient = client({ autoRetry: false, timeout: this.webhookRequestMs });
  }

  /** Whether TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set. */
  get enabled(): boolean {
    return this.client !== undefined;
  }

  /** The longest one request may take, its 429 retries included. */
  get maxRequestMs(): number {
    return this.config.requestTimeoutMs * (MAX_429_RETRIES + 1) + MAX_RETRY_DELAY_MS * MAX_429_RETRIES;
  }

  /** The longest one request made `withinWebhook` may take. */
  get webhookRequestMs(): number {
    return Math.min(this.config.requestTimeoutMs, WEBHOOK_REQUEST_BUDGET_MS);
  }

  /**
   * Adds a participant to a conference, by SID or by name (a name creates the conference when it does not exist
   * yet): `POST /2010-04-01/Accounts/{sid}/Conferences/{conference}/Participants.json`.
   */
  async addParticipant(conference: string, participant: NewParticipant, options: RequestOptions = {}): Promise<AddedParticipant> {
    const client = this.requireClient(options);
    try {
      const created = await client.conferences(conference).participants.create(participant);
      return { callSid: created.callSid, conferenceSid: created.conferenceSid ?? undefined, status: created.status ?? undefined };
    } catch (error) {
      throw TwilioRequestError.from(error);
    }
  }

  /**
   * Ends a call (`POST /2010-04-01/Accounts/{sid}/Calls/{callSid}.json`, `Status=completed`). Resolves `gone` when
   * Twilio no longer knows the call as live (404, or 21220 "not in progress").
   */
  async endCall(callSid: string): Promise<'ended' | 'gone'> {
    const client = this.requireClient();
    try {
      await client.calls(callSid).update({ status: 'completed' });
      return 'ended';
    } catch (error) {
      const failure = TwilioRequestError.from(error);
      if (failure.status === 404 || failure.twilioCode === 21220) return 'gone';
      throw failure;
    }
  }

  private requireClient({ withinWebhook = false }: RequestOptions = {}): twilio.Twilio {
    const client = withinWebhook ? this.webhookClient : this.client;
    if (!client) throw new TwilioRequestError(TwilioErrorCode.NotConfigured);
    return client;
  }
}
