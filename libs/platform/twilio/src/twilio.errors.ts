export enum TwilioErrorCode {
  /** 429 (Twilio error 20429, account concurrency) even after the SDK's retries. Nothing was done. */
  RateLimited = 'rate_limited',
  /** A 5xx: the request may or may not have been carried out (creating a participant is never retried blindly). */
  ServerError = 'server_error',
  /** Any other 4xx: Twilio refused the request. */
  Refused = 'refused',
  /** No answer within TWILIO_REQUEST_TIMEOUT_MS. */
  Timeout = 'timeout',
  /** Twilio could not be reached. */
  Unreachable = 'unreachable',
  /** TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN are not set. */
  NotConfigured = 'not_configured',
}

/**
 * A Twilio API request failed. The message names the status and Twilio's error code only: Twilio's own messages can
 * quote phone numbers, which never go to logs.
 */
export class TwilioRequestError extends Error {
  constructor(
    readonly code: TwilioErrorCode,
    readonly status?: number,
    readonly twilioCode?: number,
  ) {
    super(
      status !== undefined
        ? `Twilio answered ${status}${twilioCode !== undefined ? ` (error ${twilioCode})` : ''}`
        : `Twilio request failed: ${code}`,
    );
    this.name = 'TwilioRequestError';
  }

  /** Classifies whatever the SDK threw: RestException-like errors by status, axios errors by their code. */
  static from(error: unknown): TwilioRequestError {
    if (error instanceof TwilioRequestError) return error;
    const { status, code } = (error ?? {}) as { status?: unknown; code?: unknown };
    if (typeof status === 'number') {
      const twilioCode = typeof code === 'number' ? code : undefined;
      const kind =
        status === 429 ? TwilioErrorCode.RateLimited : status >= 500 ? TwilioErrorCode.ServerError : TwilioErrorCode.Refused;
      return new TwilioRequestError(kind, status, twilioCode);
    }
    const message = (error as { message?: unknown } | null)?.message;
    const timedOut =
      code === 'ECONNABORTED' || code === 'ETIMEDOUT' || (typeof message === 'string' && /timeout/i.test(message));
    return new TwilioRequestError(timedOut ? TwilioErrorCode.Timeout : TwilioErrorCode.Unreachable);
  }
}
