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

/** The webhook cannot be trusted or read. Mapped to 4xx in `WebhookExceptionFilter`; nothing else happens. */
export class WebhookError extends Error {
  constructor(
    readonly code: WebhookErrorCode,
    detail: string,
  ) {
    super(detail);
    this.name = 'WebhookError';
  }
}
