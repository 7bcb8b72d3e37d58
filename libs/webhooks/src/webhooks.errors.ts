export enum WebhookErrorCode {
  InvalidSignature = 'invalid_signature',
  MissingHeader = 'missing_header',
  MalformedBody = 'malformed_body',
  PayloadTooLarge = 'payload_too_large',
  /** The process is draining for shutdown: new calls go to another replica (503, OpenAI retries). */
  Draining = 'draining',
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
