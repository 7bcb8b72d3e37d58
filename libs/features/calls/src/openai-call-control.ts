import { Inject, Injectable } from '@nestjs/common';
import OpenAI, { APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import type { CallAcceptParams } from 'openai/resources/realtime/calls';
import { callControlConfig } from './calls.config.js';
import { CallControlError, CallControlErrorCode, isRetryableStatus } from './calls.errors.js';
import { OPENAI_CLIENT } from './openai.provider.js';
import type { ConfigType } from '#config';
import { Clock, errorMessage, systemClock } from '#resilience';

export type AcceptOutcome = 'accepted' | 'caller_gone';

type CallControlAction = 'accept' | 'reject' | 'refer' | 'hangup';

/** The most of an error answer's body quoted in an error message (and so in a log line). */
const BODY_EXCERPT_CHARS = 200;

/**
 * Call control over OpenAI's REST API, through the official SDK (its retries, timeouts and error classes). Every
 * request is bounded: the SDK's default 10-minute timeout would hold a webhook open far past the moment OpenAI gives
 * up on it.
 *
 * What the bridge relies on in an answer is its status, nothing else (docs/outbound-contracts.md): any 2xx is
 * success, whatever its body and content type (documented as "200, no body", but an empty body labelled JSON, `{}`,
 * `null` or text are all seen behind proxies). So the SDK is asked for the raw response, whose body is discarded
 * unread: letting it parse would turn a JSON-labelled empty body into a failed accept of a call that was accepted.
 */
@Injectable()
export class OpenAICallControl {
  constructor(
    @Inject(OPENAI_CLIENT) private readonly client: OpenAI,
    @Inject(callControlConfig.KEY) private readonly config: ConfigType<typeof callControlConfig>,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Accepts with one retry on a transient failure (408/409/429/5xx/network), all within the accept deadline. */
  async accept(callId: string, body: CallAcceptParams): Promise<AcceptOutcome> {
    const deadline = this.config.acceptTimeoutMs;
    // The deadline is cleared as soon as the accept is answered. `AbortSignal.timeout` would stay armed for the whole
    // deadline after every accept, then fire into the SDK's listener and build two DOMExceptions per call for nothing.
    const overall = new AbortController();
    const timer = this.clock.setTimeout(() => overall.abort(), deadline, { ref: true });
    try {
      await this.send('accept', () =>
        this.client.realtime.calls.accept(callId, body, {
          maxRetries: 1,
          timeout: Math.floor(deadline * 0.45),
          signal: overall.signal,
        }),
      );
      return 'accepted';
    } catch (error) {
      if (error instanceof CallControlError && error.outcome === 'caller_gone') return 'caller_gone';
      throw error;
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  hangup(callId: string): Promise<void> {
    return this.send('hangup', () => this.client.realtime.calls.hangup(callId, this.requestOptions()));
  }

  reject(callId: string, statusCode?: number): Promise<void> {
    return this.send('reject', () =>
      this.client.realtime.calls.reject(callId, statusCode ? { status_code: statusCode } : {}, this.requestOptions()),
    );
  }

  refer(callId: string, targetUri: string): Promise<void> {
    return this.send('refer', () => this.client.realtime.calls.refer(callId, { target_uri: targetUri }, this.requestOptions()));
  }

  /** Sends one request; resolves on any 2xx without reading its body, throws a `CallControlError` otherwise. */
  private async send(action: CallControlAction, request: () => { asResponse(): Promise<Response> }): Promise<void> {
    let response: Response;
    try {
      response = await request().asResponse();
    } catch (error) {
      throw translate(error, action);
    }
    // Nothing in the body is used; cancelling it frees the connection without buffering whatever a proxy sent.
    await response.body?.cancel().catch(() => {});
  }

  private requestOptions() {
    return { maxRetries: 1, timeout: this.config.acceptTimeoutMs };
  }
}

/** A failure as the call sees it: classified by status (see `CallControlError.outcome`), with a short excerpt. */
function translate(error: unknown, action: CallControlAction): CallControlError {
  if (error instanceof APIUserAbortError || error instanceof APIConnectionTimeoutError) {
    return new CallControlError(CallControlErrorCode.Timeout, `${action} timed out`);
  }
  if (error instanceof APIError && typeof error.status === 'number') {
    const { status } = error;
    const code = status === 404 || isRetryableStatus(status) ? CallControlErrorCode.Upstream : CallControlErrorCode.Refused;
    // The SDK's message is OpenAI's error text, or the body itself when it is not JSON (a proxy's HTML page): only
    // its first bytes are kept. It never holds our key; the logger redacts secret-shaped text in any case.
    return new CallControlError(code, `${action} answered HTTP ${status}: ${bodyExcerpt(error)}`, status);
  }
  // A connection failure (APIConnectionError) or anything else: no answer at all, so worth another try.
  return new CallControlError(CallControlErrorCode.Upstream, `${action} failed: ${errorMessage(error, { maxLength: BODY_EXCERPT_CHARS })}`);
}

/** The first bytes of an error answer's text, on one line, without control characters. */
export function bodyExcerpt(error: APIError): string {
  const text = error.message.startsWith(`${error.status} `) ? error.message.slice(String(error.status).length + 1) : error.message;
  if (text === 'status code (no body)') return '(no error in the body)';
  // eslint-disable-next-line no-control-regex
  const line = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s{2,}/g, ' ').trim();
  return line.length > BODY_EXCERPT_CHARS ? `${line.slice(0, BODY_EXCERPT_CHARS)}…` : line || '(empty body)';
}
