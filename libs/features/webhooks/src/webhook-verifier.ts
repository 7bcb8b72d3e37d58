import { Inject, Injectable } from '@nestjs/common';
import OpenAI, { InvalidWebhookSignatureError } from 'openai';
import { webhooksConfig } from './webhooks.config.js';
import { WebhookError, WebhookErrorCode } from './webhooks.errors.js';
import type { ConfigType } from '#config';
import { OPENAI_CLIENT } from '#calls';

export interface VerifiedWebhook {
  webhookId: string;
  event: { type: string; [field: string]: unknown };
}

type Headers = Record<string, string | string[] | undefined>;

function single(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Standard Webhooks verification with the OpenAI SDK, against every configured secret (rotation sends two
 * signatures and we may hold two secrets). Stricter than the SDK where the SDK is lenient: the timestamp must be
 * an integer and the webhook id a sane token.
 */
@Injectable()
export class WebhookVerifier {
  constructor(
    @Inject(OPENAI_CLIENT) private readonly openai: OpenAI,
    @Inject(webhooksConfig.KEY) private readonly config: ConfigType<typeof webhooksConfig>,
  ) {}

  async verify(rawBody: string, headers: Headers): Promise<VerifiedWebhook> {
    const webhookId = single(headers, 'webhook-id');
    const timestamp = single(headers, 'webhook-timestamp');
    const signature = single(headers, 'webhook-signature');
    if (!webhookId || !timestamp || !signature) {
      throw new WebhookError(WebhookErrorCode.MissingHeader, 'a webhook-id/-timestamp/-signature header is missing');
    }
    if (!/^[A-Za-z0-9_.:-]{1,256}$/.test(webhookId)) {
      throw new WebhookError(WebhookErrorCode.MissingHeader, 'webhook-id is not a valid id');
    }
    if (!/^\d{1,12}$/.test(timestamp)) {
      throw new WebhookError(WebhookErrorCode.InvalidSignature, 'webhook-timestamp is not an integer');
    }
    const trusted = { 'webhook-id': webhookId, 'webhook-timestamp': timestamp, 'webhook-signature': signature };

    let verified = false;
    for (const secret of this.config.secrets) {
      try {
        await this.openai.webhooks.verifySignature(rawBody, trusted, secret, this.config.toleranceSeconds);
        verified = true;
        break;
      } catch (error) {
        if (!(error instanceof InvalidWebhookSignatureError)) throw error;
      }
    }
    if (!verified) throw new WebhookError(WebhookErrorCode.InvalidSignature, 'no signature matches a configured secret');

    let event: unknown;
    try {
      event = JSON.parse(rawBody);
    } catch {
      throw new WebhookError(WebhookErrorCode.MalformedBody, 'body is not JSON');
    }
    if (typeof event !== 'object' || event === null || typeof (event as { type?: unknown }).type !== 'string') {
      throw new WebhookError(WebhookErrorCode.MalformedBody, 'body is not an event');
    }
    return { webhookId, event: event as VerifiedWebhook['event'] };
  }
}
