import { Inject, Injectable } from '@nestjs/common';
import OpenAI, { APIConnectionTimeoutError, APIError, APIUserAbortError, NotFoundError } from 'openai';
import type { CallAcceptParams } from 'openai/resources/realtime/calls';
import { callControlConfig } from './calls.config.js';
import { CallControlError, CallControlErrorCode } from './calls.errors.js';
import { OPENAI_CLIENT } from './openai.provider.js';
import type { ConfigType } from '#config';

export type AcceptOutcome = 'accepted' | 'caller_gone';

/**
 * Call control over OpenAI's REST API, through the official SDK. Every request is bounded: the SDK's default
 * 10-minute timeout would hold a webhook open far past the moment OpenAI gives up on it.
 */
@Injectable()
export class OpenAICallControl {
  constructor(
    @Inject(OPENAI_CLIENT) private readonly client: OpenAI,
    @Inject(callControlConfig.KEY) private readonly config: ConfigType<typeof callControlConfig>,
  ) {}

  /** Accepts with one retry on a transient failure (408/409/429/5xx/network), all within the accept deadline. */
  async accept(callId: string, body: CallAcceptParams): Promise<AcceptOutcome> {
    const deadline = this.config.acceptTimeoutMs;
    // The deadline is cleared as soon as the accept is answered. `AbortSignal.timeout` would stay armed for the whole
    // deadline after every accept, then fire into the SDK's listener and build two DOMExceptions per call for nothing.
    const overall = new AbortController();
    const timer = setTimeout(() => overall.abort(), deadline);
    try {
      await this.client.realtime.calls.accept(callId, body, {
        maxRetries: 1,
        timeout: Math.floor(deadline * 0.45),
        signal: overall.signal,
      });
      return 'accepted';
    } catch (error) {
      if (error instanceof NotFoundError) return 'caller_gone';
      throw this.translate(error, 'accept');
    } finally {
      clearTimeout(timer);
    }
  }

  async hangup(callId: string): Promise<void> {
    try {
      await this.client.realtime.calls.hangup(callId, this.requestOptions());
    } catch (error) {
      throw this.translate(error, 'hangup');
    }
  }

  async reject(callId: string, statusCode?: number): Promise<void> {
    try {
      await this.client.realtime.calls.reject(
        callId,
        statusCode ? { status_code: statusCode } : {},
        this.requestOptions(),
      );
    } catch (error) {
      throw this.translate(error, 'reject');
    }
  }

  async refer(callId: string, targetUri: string): Promise<void> {
    try {
      await this.client.realtime.calls.refer(callId, { target_uri: targetUri }, this.requestOptions());
    } catch (error) {
      throw this.translate(error, 'refer');
    }
  }

  private requestOptions() {
    return { maxRetries: 1, timeout: this.config.acceptTimeoutMs };
  }

  private translate(error: unknown, action: string): CallControlError {
    if (error instanceof APIUserAbortError || error instanceof APIConnectionTimeoutError) {
      return new CallControlError(CallControlErrorCode.Timeout, `${action} timed out`);
    }
    if (error instanceof APIError) {
      // The SDK's message carries OpenAI's error text, never our key.
      const status = typeof error.status === 'number' ? error.status : undefined;
      return new CallControlError(CallControlErrorCode.Upstream, `${action} failed: ${error.message}`, status);
    }
    const reason = error instanceof Error ? error.message : String(error);
    return new CallControlError(CallControlErrorCode.Upstream, `${action} failed: ${reason}`);
  }
}
