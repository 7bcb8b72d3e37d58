import { createHash } from 'node:crypto';
import type { NotificationSink, RenderedMessage, SendOutcome } from '../notification.js';

/** SUPPRESS_EMBEDS: a URL someone says on the phone must not unfurl into a preview. */
const SUPPRESS_EMBEDS = 1 << 2;

/**
 * A Discord incoming webhook. The URL carries the webhook's token, so it never leaves this object: not in ids, logs
 * or error messages.
 */
export class DiscordWebhookSink implements NotificationSink {
  readonly id: string;
  readonly label: string;
  private readonly url: string;

  constructor(
    webhookUrl: string,
    private readonly timeoutMs: number,
  ) {
    const digest = createHash('sha256').update(webhookUrl).digest('hex').slice(0, 12);
    this.id = `discord:${digest}`;
    this.label = `Discord webhook ${digest}`;
    const url = new URL(webhookUrl);
    url.searchParams.set('wait', 'true'); // without it an unsaved message returns no error
    this.url = url.toString();
  }

  async send(message: RenderedMessage): Promise<SendOutcome> {
    const payload = { content: message.content, allowed_mentions: { parse: [] }, flags: SUPPRESS_EMBEDS };
    let body: string | FormData;
    const headers: Record<string, string> = {};
    if (message.file) {
      body = new FormData();
      body.append('payload_json', JSON.stringify({ ...payload, attachments: [{ id: 0, filename: message.file.name }] }));
      body.append('files[0]', new Blob([message.file.content], { type: 'text/plain; charset=utf-8' }), message.file.name);
    } else {
      body = JSON.stringify(payload);
      headers['content-type'] = 'application/json';
    }

    let response: Response;
    try {
      response = await fetch(this.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      return { kind: 'retry', reason: describeNetworkError(error) };
    }
    const text = await response.text().catch(() => '');
    const status = response.status;
    if (status >= 200 && status < 300) {
      const remaining = response.headers.get('x-ratelimit-remaining');
      const resetAfter = Number(response.headers.get('x-ratelimit-reset-after'));
      const waitMs = remaining === '0' && Number.isFinite(resetAfter) ? Math.ceil(resetAfter * 1000) : 0;
      return { kind: 'delivered', waitMs };
    }
    const json = parseJson(text);
    if (status === 429) {
      // Discord's JSON says how long to wait; a proxy's 429 may only have Retry-After, or nothing (then a second).
      const hint = json?.retry_after ?? response.headers.get('retry-after');
      const retryAfter = hint === null || hint === undefined || hint === '' ? NaN : Number(hint);
      const afterMs = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : 1000;
      return { kind: 'retry', afterMs, reason: `rate limited${json?.global ? ' (global)' : ''}` };
    }
    const code = typeof json?.code === 'number' ? ` code ${json.code}` : '';
    if (status === 401 || status === 403 || status === 404) return { kind: 'dead', reason: `HTTP ${status}${code}` };
    if (status >= 400 && status < 500 && status !== 408) return { kind: 'poison', reason: `HTTP ${status}${code}` };
    return { kind: 'retry', reason: `HTTP ${status}` };
  }
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** fetch's errors can quote the request; only the kind of failure is kept. */
function describeNetworkError(error: unknown): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') return 'timed out';
  const cause = (error as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === 'string' ? `network error ${cause.code}` : 'network error';
}
