import { Injectable, Logger } from '@nestjs/common';
import { OpenAICallControl } from '#calls';
import { errorMessage } from '#resilience';
import { TwilioVoice } from '#twilio';

/** The agent's leg of a conference, as far as it is known. */
export interface AgentLegRef {
  /** Its Twilio call (`CA…`). */
  callSid?: string | null;
  /** The Realtime call (`rtc_…`) it became. */
  openaiCallId?: string | null;
}

/**
 * Takes the agent off a conference: its Twilio leg is completed (its sideband then closes), or, when that leg is
 * unknown or Twilio fails, the Realtime call is hung up through OpenAI.
 */
@Injectable()
export class AgentLegs {
  private readonly logger = new Logger(AgentLegs.name);

  constructor(
    private readonly voice: TwilioVoice,
    private readonly control: OpenAICallControl,
  ) {}

  /** True when one of the two ways worked; failures are logged under `tag` (the call's or the conference's id). */
  async end(tag: string, { callSid, openaiCallId }: AgentLegRef): Promise<boolean> {
    if (callSid) {
      try {
        await this.voice.endCall(callSid);
        return true;
      } catch (error) {
        this.logger.warn(`[${tag}] ending the agent's Twilio leg failed (${errorMessage(error, { maxLength: 200 })})${openaiCallId ? ', hanging up through OpenAI' : ''}`);
      }
    }
    if (openaiCallId) {
      try {
        await this.control.hangup(openaiCallId);
        return true;
      } catch (error) {
        this.logger.error(`[${tag}] the agent could not be taken off the call: ${errorMessage(error, { maxLength: 200 })}`);
        return false;
      }
    }
    if (!callSid) this.logger.warn(`[${tag}] the agent's leg is unknown: it cannot be ended`);
    return false;
  }
}
