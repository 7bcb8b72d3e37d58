import { Catch, HttpException, HttpStatus, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';
import { WebhookError, WebhookErrorCode } from './webhooks.errors.js';
import { CallControlError, CallControlErrorCode } from '#calls';

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
  [WebhookErrorCode.InvalidTwilioSignature]: 'invalid_signature',
  [WebhookErrorCode.TwilioNotConfigured]: 'not_found',
};

/**
 * The one place webhook failures (OpenAI's and Twilio's) become HTTP. Bad input: a short generic 4xx (the detail
 * goes to the log, never to the sender); an unsigned Twilio webhook: 403. Call control failures: 5xx, so that
 * OpenAI delivers the webhook again.
 */
@Catch()
export class WebhookExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Webhooks');

  catch(error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (error instanceof WebhookError && error.code === WebhookErrorCode.Draining) {
      this.logger.log(`webhook turned away: ${error.message}`);
      response.status(HttpStatus.SERVICE_UNAVAILABLE).setHeader('retry-after', '1').json({ error: 'draining' });
      return;
    }
    if (error instanceof WebhookError) {
      this.logger.warn(`webhook rejected (${error.code}): ${error.message}`);
      const status = STATUS[error.code];
      response.status(status).json({ error: BODY[error.code] ?? 'invalid_webhook' });
      return;
    }
    if (error instanceof CallControlError) {
      const status =
        error.code === CallControlErrorCode.Timeout ? HttpStatus.GATEWAY_TIMEOUT : HttpStatus.BAD_GATEWAY;
      response.status(status).json({ error: 'call_control_failed' });
      return;
    }
    if (error instanceof HttpException) {
      response.status(error.getStatus()).json({ error: 'request_failed' });
      return;
    }
    this.logger.error(`webhook handling failed: ${error instanceof Error ? error.stack : String(error)}`);
    response.status(HttpStatus.INTERNAL_SERVER_ERROR).json({ error: 'internal_error' });
  }
}
