import { Injectable, Logger } from '@nestjs/common';
import { buildAcceptPayload } from './accept-payload.js';
import type { AgentProfile } from './agent-profile.js';
import { CallSessions } from './call-sessions.service.js';
import { CallControlError } from './calls.errors.js';
import { OpenAICallControl } from './openai-call-control.js';
import { EventBus, type CallContext } from '#events';
import { IdempotencyStore, WEBHOOK_CLAIM_TTL_MS } from '#storage';

export type IncomingCallOutcome = 'accepted' | 'rejected' | 'caller_gone' | 'duplicate';

/** The call lifecycle commands: accept an incoming call and attach to it, or reject it. */
@Injectable()
export class CallsService {
  private readonly logger = new Logger(CallsService.name);

  constructor(
    private readonly control: OpenAICallControl,
    private readonly sessions: CallSessions,
    private readonly claims: IdempotencyStore,
    private readonly bus: EventBus,
  ) {}

  /**
   * Accepts a call once, whatever number of webhooks announce it. On success the sideband is opened in the
   * background (the webhook must be answered within seconds). Throws `CallControlError` when OpenAI should retry;
   * the claim is then released so that the retry can accept.
   */
  async acceptIncoming(context: CallContext, profile: AgentProfile): Promise<IncomingCallOutcome> {
    const { callId } = context;
    const claimKey = `call:${callId}`;
    if (!(await this.claims.claim(claimKey, WEBHOOK_CLAIM_TTL_MS))) return 'duplicate';

    let outcome;
    try {
      outcome = await this.control.accept(callId, buildAcceptPayload(profile));
    } catch (error) {
      await this.claims.release(claimKey);
      this.logger.error(`[${callId}] accept failed: ${(error as Error).message}`);
      throw error;
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
      tools: profile.tools.flatMap((tool) => (tool.name ? [tool.name] : [])),
      ...(profile.metadata ? { metadata: profile.metadata } : {}),
      ...(profile.notify ? { notify: profile.notify } : {}),
    });
    void this.sessions.attach(callId, acceptedAt, profile.welcomeMessage, profile.name);
    return 'accepted';
  }

  /**
   * Rejects a call no agent answers (`POST /realtime/calls/{id}/reject` with this SIP status), once. Throws
   * `CallControlError` when OpenAI should retry; a 404 means the caller already hung up.
   */
  async rejectIncoming(context: CallContext, statusCode: number): Promise<IncomingCallOutcome> {
    const { callId } = context;
    const claimKey = `call:${callId}`;
    if (!(await this.claims.claim(claimKey, WEBHOOK_CLAIM_TTL_MS))) return 'duplicate';
    try {
      await this.control.reject(callId, statusCode);
    } catch (error) {
      if (error instanceof CallControlError && error.upstreamStatus === 404) {
        this.logger.log(`[${callId}] caller hung up before the call was rejected`);
        this.bus.emit('call.rejected', { callId, context, reason: 'caller_gone' });
        return 'caller_gone';
      }
      await this.claims.release(claimKey);
      this.logger.error(`[${callId}] reject failed: ${(error as Error).message}`);
      throw error;
    }
    this.logger.log(`[${callId}] rejected with SIP ${statusCode}: no agent profile answers this call`);
    this.bus.emit('call.rejected', { callId, context, reason: 'unknown_number', statusCode });
    return 'rejected';
  }
}
