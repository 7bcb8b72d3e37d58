import type { Request } from 'express';
import getRawBody from 'raw-body';
import { WebhookError, WebhookErrorCode } from './webhooks.errors.js';

/**
 * A webhook's body as the raw text that was signed (never parsed and re-serialized), at most `maxBytes` long: 413
 * beyond, 400 when it cannot be read. Body parsing is off app-wide for exactly this.
 */
export async function readWebhookBody(request: Request, maxBytes: number): Promise<string> {
  try {
    return await getRawBody(request, { limit: maxBytes, encoding: 'utf8' });
  } catch (error) {
    const type = (error as { type?: string }).type;
    if (type === 'entity.too.large') {
      throw new WebhookError(WebhookErrorCode.PayloadTooLarge, 'body over the size cap');
    }
    throw new WebhookError(WebhookErrorCode.MalformedBody, `body could not be read (${type ?? 'aborted'})`);
  }
}
