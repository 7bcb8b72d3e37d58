import { Inject, Injectable, Logger } from '@nestjs/common';
import { buildAcceptPayload } from './accept-payload.js';
import type { AgentProfile } from './agent-profile.js';
import { CallSessions } from './call-sessions.service.js';
import { callControlConfig } from './calls.config.js';
import { CallControlError } from './calls.errors.js';
import { OpenAICallControl } from './openai-call-control.js';
import type { ConfigType } from '#config';
import { EventBus, type CallContext, type CallRejectedEvent } from '#events';
import { errorMessage } from '#resilience';
import { IdempotencyStore, WEBHOOK_CLAIM_TTL_MS } from '#storage';

export type IncomingCallOutcome = 'accepted' | 'rejected' | 'caller_gone' | 'duplicate';

/** Why `rejectIncoming` turns a call away. */
export type RejectionReason = Extract<CallRejectedEvent['reason'], 'unknown_number' | 'agent_leg_failed'>;

const WHY_REJECTED: Record<RejectionReason, string> = {
  unknown_number: 'no agent profile answers this call',
  agent_leg_failed: 'its conference had already given up on the agent (the caller heard an apology)',
};

/** SIP "486 Busy Here": what a caller hears when every line of this process is taken. */
const BUSY_HERE = 486;

/** The call lifecycle commands: accept an incoming call and attach to it, or reject it. */
@Injectable()
export class CallsService {
  private readonly logger = new Logger(CallsService.name);
  /** Accepts in progress: they count against the limit before their session exists. */
  private accepting = 0;

  constructor(
    private readonly control: OpenAICallControl,
    private readonly sessions: CallSessions,
    private readonly claims: IdempotencyStore,
    private readonly bus: EventBus,
    @Inject(callControlConfig.KEY) private readonly config: ConfigType<typeof callControlConfig>,
  ) {}

  /** Calls this process holds: attached or attaching, plus accepts in progress. */
  get activeCalls(): number {
    return this.sessions.activeCount + this.accepting;
  }

  /** MAX_CONCURRENT_CALLS (0: none). */
  get maxConcurrentCalls(): number {
    return this.config.maxConcurrentCalls;
  }

  /** True when the next call would be rejected: readiness fails so that a load balancer prefers other replicas. */
  get atCapacity(): boolean {
    return this.config.maxConcurrentCalls > 0 && this.activeCalls >= this.config.maxConcurrentCalls;
  }

  /**
   * Accepts a call once, whatever number of webhooks announce it. On success the sideband is opened in the
   * background (the webhook must be answered within seconds). Throws `CallControlError` when OpenAI should retry;
   * the claim is then released so that the retry can accept.
   */
  async acceptIncoming(context: CallContext, profile: AgentProfile): Promise<IncomingCallOutcome> {
    const { callId } = context;
    const claimKey = `call:${callId}`;
    if (!(await this.claims.claim(claimKey, WEBHOOK_CLAIM_TTL_MS))) return 'duplicate';
    if (this.atCapacity) return this.rejectBusy(context, claimKey);

    let outcome;
    this.accepting++;
    try {
      outcome = await this.control.accept(callId, buildAcceptPayload(profile));
    } catch (error) {
      await this.claims.release(claimKey);
      this.logger.error(`[${callId}] accept failed${outcomeNote(error)}: ${errorMessage(error)}`);
      throw error;
    } finally {
      this.accepting--;
    }
    if (outcome === 'caller_gone') {
      this.logger.log(`[${callId}] caller hung up before the call was accepted`);
      this.bus.emit('call.rejected', { callId, context, reason: 'caller_gone' });
      return 'caller_gone';
    }

    const acceptedAt = new Date();
    this.logger.log(`[${callId}] accepted with profile ${profile.name}`);
    this.bus.emit('call.accepted', {
      callId,
      context,
      acceptedAt,
      profile: profile.name,
      ...(profile.transfer ? { transfer: profile.transfer } : {}),
      callerTranscription: profile.transcription !== undefined,
      ...(profile.welcomeMessage ? { greeting: profile.welcomeMessage } : {}),
      tools: profile.tools.flatMap((tool) => (tool.name ? [tool.name] : [])),
      ...(profile.metadata ? { metadata: profile.metadata } : {}),
      ...(profile.notify ? { notify: profile.notify } : {}),
    });
    void this.sessions.attach(callId, acceptedAt, profile.name, context);
    return 'accepted';
  }

  /** At capacity: the caller hears busy (486) at once instead of waiting for an answer that will not come. */
  private async rejectBusy(context: CallContext, claimKey: string): Promise<IncomingCallOutcome> {
    const { callId } = context;
    try {
      await this.control.reject(callId, BUSY_HERE);
    } catch (error) {
      if (error instanceof CallControlError && error.outcome === 'caller_gone') {
        this.logger.log(`[${callId}] caller hung up before the call was rejected (at capacity)`);
        this.bus.emit('call.rejected', { callId, context, reason: 'caller_gone' });
        return 'caller_gone';
      }
      // Let OpenAI deliver the webhook again: by then a call may have ended, or another replica takes it.
      await this.claims.release(claimKey);
      this.logger.error(`[${callId}] at capacity, and the rejection failed${outcomeNote(error)}: ${errorMessage(error)}`);
      throw error;
    }
    this.logger.warn(`[${callId}] rejected with 486: at capacity (${this.config.maxConcurrentCalls} calls)`);
    this.bus.emit('call.rejected', { callId, context, reason: 'at_capacity', statusCode: BUSY_HERE });
    return 'rejected';
  }

  /**
   * Rejects a call (`POST /realtime/calls/{id}/reject` with this SIP status), once: one no agent answers
   * (`unknown_number`), or the agent's leg of a Twilio conference that already gave up on it (`agent_leg_failed`).
   * Throws `CallControlError` when OpenAI should retry; a 404 means the caller already hung up.
   */
  async rejectIncoming(
    context: CallContext,
    statusCode: number,
    reason: RejectionReason = 'unknown_number',
  ): Promise<IncomingCallOutcome> {
    const { callId } = context;
    const claimKey = `call:${callId}`;
    if (!(await this.claims.claim(claimKey, WEBHOOK_CLAIM_TTL_MS))) return 'duplicate';
    try {
      await this.control.reject(callId, statusCode);
    } catch (error) {
      if (error instanceof CallControlError && error.outcome === 'caller_gone') {
        this.logger.log(`[${callId}] caller hung up before the call was rejected`);
        this.bus.emit('call.rejected', { callId, context, reason: 'caller_gone' });
        return 'caller_gone';
      }
      await this.claims.release(claimKey);
      this.logger.error(`[${callId}] reject failed${outcomeNote(error)}: ${errorMessage(error)}`);
      throw error;
    }
    this.logger.log(`[${callId}] rejected with SIP ${statusCode}: ${WHY_REJECTED[reason]}`);
    this.bus.emit('call.rejected', { callId, context, reason, statusCode });
    return 'rejected';
  }
}

/**
 * What OpenAI's retry of the webhook can do about a failure. A refused request (a 4xx) is answered 5xx all the same:
 * it fails again unless the deployment is fixed meanwhile, and then the retry takes the call.
 */
function outcomeNote(error: unknown): string {
  if (!(error instanceof CallControlError)) return '';
  return error.outcome === 'failed' ? ' (refused: not retried now, only when OpenAI delivers the webhook again)' : ' (transient: OpenAI will retry)';
}
