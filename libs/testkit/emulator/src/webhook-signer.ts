import { createHmac, randomBytes } from 'node:crypto';

/** Standard Webhooks key: the base64 after `whsec_`, or the raw UTF-8 of a secret without that prefix. */
function keyOf(secret: string): Buffer {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret, 'utf8');
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, as OpenAI signs its webhooks. */
export function signWebhook(secret: string, webhookId: string, timestamp: number | string, body: string): string {
  const mac = createHmac('sha256', keyOf(secret)).update(`${webhookId}.${timestamp}.${body}`).digest('base64');
  return `v1,${mac}`;
}

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}
