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
}

export interface AddedParticipant {
  /** The participant's own call (`CA…`). */
  callSid: string;
  conferenceSid?: string;
  status?: string;
}

/**
 * Twilio Programmable Voice through the official SDK: adding conference participants and ending calls. Requests
 * time out after TWILIO_REQUEST_TIMEOUT_MS; a 429 (nothing was done) is retried by the SDK, nothing else is — a 5xx
 * on a request that creates a call may have created it. Every failure is a `TwilioRequestError`.
 */
@Injectable()
export class TwilioVoice {
  private readonly client?: twilio.Twilio;

  constructor(@Inject(twilioConfig.KEY) private readonly config: ConfigType<typeof twilioConfig>) {
    const account = config.account;
    if (!account) return;
    this.client = twilio(account.sid, account.authToken, {
      httpClient: new TwilioRequestClient(config.apiBaseUrl, {
        autoRetry: true,
        maxRetries: MAX_429_RETRIES,
        maxRetryDelay: MAX_RETRY_DELAY_MS,
        timeout: config.requestTimeoutMs,
      }),
      // Never the SDK's debug logging (TWILIO_LOG_LEVEL=debug would print request parameters: phone numbers).
      logLevel: 'info',
    });
  }

  /** Whether TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set. */
  get enabled(): boolean {
    return this.client !== undefined;
  }

  /** The longest one request may take, its 429 retries included. */
  get maxRequestMs(): number {
    return this.config.requestTimeoutMs * (MAX_429_RETRIES + 1) + MAX_RETRY_DELAY_MS * MAX_429_RETRIES;
  }

  /**
   * Adds a participant to a conference, by SID or by name (a name creates the conference when it does not exist
   * yet): `POST /2010-04-01/Accounts/{sid}/Conferences/{conference}/Participants.json`.
   */
  async addParticipant(conference: string, participant: NewParticipant): Promise<AddedParticipant> {
    const client = this.requireClient();
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

  private requireClient(): twilio.Twilio {
    if (!this.client) throw new TwilioRequestError(TwilioErrorCode.NotConfigured);
    return this.client;
  }
}
