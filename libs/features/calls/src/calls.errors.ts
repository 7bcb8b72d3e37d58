import { HttpStatus } from '@nestjs/common';
import { HttpMappedError, type HttpErrorLogLevel } from '#http';

export enum CallControlErrorCode {
  /** OpenAI did not answer within the deadline (retry included): worth another try. */
  Timeout = 'timeout',
  /** OpenAI answered 408/409/429/5xx, or could not be reached: worth another try. */
  Upstream = 'upstream',
  /** OpenAI answered another 4xx (404 aside): the request itself was refused, and the same one will be again. */
  Refused = 'refused',
}

/**
 * What a failed call-control request means for the call, decided by the HTTP status alone (never by the body, which
 * may be a proxy's HTML page, empty, or JSON without `error`): the caller is gone (404), a retry may succeed
 * (timeout, network, 408/409/429/5xx), or the request failed for good (any other 4xx).
 */
export type CallControlOutcome = 'caller_gone' | 'retry' | 'failed';

/**
 * Call control failed. The webhook answers 5xx (504 on a timeout, else 502), so that OpenAI delivers it again,
 * unless the caller is gone. The failure is logged where it happened, not again when it is answered.
 */
export class CallControlError extends HttpMappedError {
  constructor(
    readonly code: CallControlErrorCode,
    message: string,
    readonly upstreamStatus?: number,
  ) {
    super(message);
    this.name = 'CallControlError';
  }

  get httpStatus(): number {
    return this.code === CallControlErrorCode.Timeout ? HttpStatus.GATEWAY_TIMEOUT : HttpStatus.BAD_GATEWAY;
  }

  get httpBody(): Record<string, unknown> {
    return { error: 'call_control_failed' };
  }

  override get logLevel(): HttpErrorLogLevel {
    return 'none';
  }

  get outcome(): CallControlOutcome {
    if (this.upstreamStatus === 404) return 'caller_gone';
    return this.code === CallControlErrorCode.Refused ? 'failed' : 'retry';
  }
}

/** Statuses a retry may cure: the SDK's own list (408 timeout, 409 lock, 429 rate limit, 5xx). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}
