import { Inject, Injectable, Logger } from '@nestjs/common';
import { transferConfig } from '../tools.config.js';
import { ToolError, type ToolContext } from '../tool.types.js';
import { HumanTransfer } from './human-transfer.js';
import type { ConfigType } from '#config';
import { errorMessage } from '#resilience';

/** How long the agent's last words ("I'm putting you through") may take to finish playing before the REFER. */
const AGENT_SILENCE_WAIT_MS = 5000;
/** Budget for the REFER request itself (one retry included). */
const REFER_REQUEST_BUDGET_MS = 10_000;

const FAILED_TO_START =
  'The transfer could not be started. Apologise to the caller, and offer to help another way or to take a message.';
const NOT_ANSWERED =
  'The transfer did not go through: the caller is still with you. Apologise, and offer to help another way or to take a message.';

/**
 * SIP-trunk transfer: `POST /realtime/calls/{id}/refer` to HUMAN_AGENT_NUMBER (as `tel:`) or TRANSFER_SIP_URI.
 * Nothing reports a REFER's outcome, but a completed transfer closes the call's sideband: when it has not closed
 * within TRANSFER_TIMEOUT_MS, the transfer did not go through and the model is told so.
 */
@Injectable()
export class SipReferTransfer extends HumanTransfer {
  private readonly logger = new Logger(SipReferTransfer.name);

  constructor(@Inject(transferConfig.KEY) private readonly config: ConfigType<typeof transferConfig>) {
    super();
  }

  get configured(): boolean {
    return this.config.targetUri !== undefined;
  }

  get maxDurationMs(): number {
    return AGENT_SILENCE_WAIT_MS + REFER_REQUEST_BUDGET_MS + this.config.timeoutMs;
  }

  async transfer(context: ToolContext): Promise<void> {
    const target = referTarget(context) ?? this.config.targetUri;
    if (target === undefined) throw new ToolError('Transfers are not available.', 'transfer_unavailable');
    const { callId, call } = context;
    await call.agentSilent(AGENT_SILENCE_WAIT_MS);
    if (call.ended) throw new ToolError('The caller hung up before the transfer.', 'call_ended');
    try {
      await call.refer(target);
    } catch (error) {
      this.logger.warn(`[${callId}] REFER failed: ${errorMessage(error)}`);
      throw new ToolError(FAILED_TO_START, 'transfer_failed');
    }
    this.logger.log(`[${callId}] REFER sent, waiting up to ${this.config.timeoutMs} ms for the call to leave`);
    if (await call.waitForEnd(this.config.timeoutMs)) return;
    this.logger.warn(`[${callId}] the call was still here ${this.config.timeoutMs} ms after the REFER: transfer failed`);
    throw new ToolError(NOT_ANSWERED, 'transfer_failed');
  }
}

/** The call's profile's own target: its SIP URI, else its number as `tel:`. */
function referTarget({ transfer }: ToolContext): string | undefined {
  if (transfer?.sipUri) return transfer.sipUri;
  return transfer?.humanAgentNumber ? `tel:${transfer.humanAgentNumber}` : undefined;
}
