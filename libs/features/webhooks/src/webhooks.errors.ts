import { HttpStatus } from '@nestjs/common';
import { HttpMappedError, type HttpErrorLogLevel } from '#http';

export enum WebhookErrorCode {
  InvalidSignature = 'invalid_signature',
  MissingHeader = 'missing_header',
  MalformedBody = 'malformed_body',
  PayloadTooLarge = 'payload_too_large',
  /** The process is draining for shutdown: new calls go to another replica (503, OpenAI retries). */
  Draining = 'draining',
  /** A Twilio webhook whose X-Twilio-Signature is missing or does not match. */
  InvalidTwilioSignature = 'invalid_twilio_signature',
  /** A Twilio webhook while Twilio is not configured (TWILIO_ACCOUNT_SID / TWILIO_AUTH_TOKEN unset). */
  TwilioNotConfigured = 'twilio_not_configured',
}

const STATUS: Record<WebhookErrorCode, number> = {
  [WebhookErrorCode.InvalidSignature]: HttpStatus.BAD_REQUEST,
  [WebhookErrorCode.MissingHeader]: HttpStatus.BAD_REQUEST,
  [WebhookErrorCode.MalformedBody]: HttpStatus.BAD_REQUEST,
  [WebhookErrorCode.PayloadTooLarge]: HttpStatus.PAYLOAD_TOO_LARGE,
  [WebhookErrorCode.Draining]: HttpStatus.SERVICE_UNAVAILABLE,
  [WebhookErrorCode.InvalidTwilioSignature]: HttpStatus.FORBIDDEN,
  [WebhookErrorCode.TwilioNotConfigured]: HttpStatus.NOT_FOUND,
};

const BODY: Partial<Record<WebhookErrorCode, string>> = {
  [WebhookErrorCode.PayloadTooLarge]: 'payload_too_large',
  [WebhookErrorCode.Draining]: 'draining',
  [WebhookErrorCode.InvalidTwilioSignature]: 'invalid_signature',
  [WebhookErrorCode.TwilioNotConfigured]: 'not_found',
};

/**
 * The webhook cannot be trusted or read, or is not taken now (draining). Bad input: a short generic 4xx (the detail
 * goes to the log, never to the sender); an unsigned Twilio webhook: 403; draining: 503 with `retry-after`, so
 * that OpenAI delivers it to a ready replica. Nothing else happens.
 */
export class WebhookError extends HttpMappedError {
  constructor(
    readonly code: WebhookErrorCode,
    detail: string,
  ) {
    super(detail);
    this.name = 'WebhookError';
  }

  get httpStatus(): number {
    return STATUS[this.code];
  }

  get httpBody(): Record<string, unknown> {
    return { error: BODY[this.code] ?? 'invalid_webhook' };
  }

  override get httpHeaders(): Record<string, string> {
    return this.code === WebhookErrorCode.Draining ? { 'retry-after': '1' } : {};
  }

  override get logLevel(): HttpErrorLogLevel {
    return this.code === WebhookErrorCode.Draining ? 'log' : 'warn';
  }

  override get logContext(): string {
    return 'Webhooks';
  }

  override get logLine(): string {
    return this.code === WebhookErrorCode.Draining
      ? `webhook turned away: ${this.message}`
      : `webhook rejected (${this.code}): ${this.message}`;
  }
}
