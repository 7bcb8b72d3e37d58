import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { errorMessage } from '#resilience';
import { LocalServer } from './local-server.js';

/** A message the fake accepted (answered 2xx). */
export interface FakeDiscordMessage {
  /** Snowflake-like message id, also in the `?wait=true` answer. */
  id: string;
  webhookId: string;
  content: string;
  /** `allowed_mentions` as sent (undefined when absent). */
  allowedMentions: unknown;
  /** `flags` as sent (undefined when absent). */
  flags: unknown;
  /** `embeds` as sent ([] when absent). */
  embeds: unknown[];
  /** Attached files (multipart `files[n]`), decoded as UTF-8. */
  files: Array<{ name: string; content: string }>;
  /** The request had `?wait=true`. */
  wait: boolean;
  /** performance.now() when the request arrived. */
  receivedAt: number;
}

/** A queued answer (fault) for the next request to a webhook; see {@link FakeDiscord.respondNext}. */
export interface FakeDiscordResponse {
  status: number;
  body?: unknown;
  /** A body sent verbatim instead of `body` as JSON (a proxy's HTML error page, an empty body with a JSON type). */
  raw?: { text: string; contentType?: string };
  headers?: Record<string, string>;
  /** Answer after this long (a slow Discord; exceeds the client's timeout). */
  delayMs?: number;
}

/**
 * The shapes in which a saved message may be answered: the message object (Discord with `?wait=true`), 204 (Discord
 * without it), an empty 200, an empty 200 labelled JSON and sent chunked, or the message object with fields nobody
 * documented and a charset in its content type. The bridge must take each as delivered.
 */
export const DISCORD_SUCCESS_SHAPES = ['message', 'no-content', 'empty', 'empty-json-chunked', 'extra-fields'] as const;

export type DiscordSuccessShape = (typeof DISCORD_SUCCESS_SHAPES)[number];

/** One request as the fake saw it. */
export interface FakeDiscordRequest {
  /** '' when the path was not a webhook path. */
  webhookId: string;
  status: number;
  /** performance.now() when the request arrived. */
  at: number;
}

export interface FakeDiscordOptions {
  /** Per-webhook bucket, like Discord's ~5 requests / 2 s. Unset: no rate limiting and no rate-limit headers. */
  rateLimit?: { requests: number; windowMs: number };
  port?: number;
  host?: string;
  /** Larger bodies get 413 (Discord: 40005). Default 25 MiB. */
  maxBodyBytes?: number;
  /**
   * How a saved message is answered (default: the message object with `?wait=true`, 204 without). A webhook's own
   * shape (`setReplyShape`) takes precedence.
   */
  replyShape?: DiscordSuccessShape;
}

interface Webhook {
  id: string;
  token: string;
  channelId: string;
  bucket: string;
  deleted: boolean;
  faults: FakeDiscordResponse[];
  replyShape?: DiscordSuccessShape;
  windowStart: number;
  used: number;
}

interface Answer {
  status: number;
  body?: unknown;
  raw?: { text: string; contentType?: string; chunked?: boolean };
  headers?: Record<string, string>;
  delayMs?: number;
}

interface Payload {
  content?: unknown;
  allowed_mentions?: unknown;
  flags?: unknown;
  embeds?: unknown;
  [key: string]: unknown;
}

const CONTENT_LIMIT = 2000;
const DISCORD_EPOCH = 1_420_070_400_000n;
const MENTION_TYPES = new Set(['roles', 'users', 'everyone']);
const NOT_FOUND = { status: 404, body: { message: '404: Not Found', code: 0 } };
const UNKNOWN_WEBHOOK = { status: 404, body: { message: 'Unknown Webhook', code: 10015 } };
const INVALID_TOKEN = { status: 401, body: { message: 'Invalid Webhook Token', code: 50027 } };
const INVALID_JSON = { status: 400, body: { message: 'The request body contains invalid JSON.', code: 50109 } };
const TOO_LARGE = { status: 413, body: { message: 'Request entity too large', code: 40005 } };

const invalidFormBody = (field: string, code: string, message: string): Answer => ({
  status: 400,
  body: { message: 'Invalid Form Body', code: 50035, errors: { [field]: { _errors: [{ code, message }] } } },
});

const codePoints = (text: string) => [...text].length;
const seconds = (ms: number) => (Math.max(0, ms) / 1000).toFixed(3);

/**
 * A local fake of Discord's webhook API (`POST /api/webhooks/{id}/{token}`, also under `/api/v10/…`) for
 * end-to-end tests and benchmarks: validates messages like Discord, rate-limits per webhook, answers queued faults,
 * and records every request and every accepted message.
 */
export class FakeDiscord {
  /** Accepted (2xx) messages, in arrival order. */
  readonly messages: FakeDiscordMessage[] = [];
  /** Every request, with the status it got, in arrival order. */
  readonly requests: FakeDiscordRequest[] = [];
  private readonly webhooks = new Map<string, Webhook>();
  private readonly timers = new Set<{ timer: NodeJS.Timeout; fire: () => void }>();
  private waiters: Array<{ webhookId: string; count: number; resolve: (m: FakeDiscordMessage[]) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }> = [];
  private http?: LocalServer;
  private sequence = 0n;

  constructor(private readonly options: FakeDiscordOptions = {}) {
    const limit = options.rateLimit;
    if (limit && !(limit.requests >= 1 && limit.windowMs > 0)) throw new RangeError('rateLimit needs requests >= 1 and windowMs > 0');
  }

  /** `http://127.0.0.1:<port>` (no trailing slash). */
  get baseUrl(): string {
    if (!this.http) throw new Error('FakeDiscord not started');
    return this.http.origin;
  }

  async start(): Promise<this> {
    this.http = new LocalServer('FakeDiscord', (req, res) => void this.handle(req, res), this.options);
    await this.http.listen();
    return this;
  }

  /** Closes every connection (delayed answers are dropped) and rejects pending `waitForMessages`. */
  async stop(): Promise<void> {
    for (const pending of this.timers) {
      clearTimeout(pending.timer);
      pending.fire();
    }
    this.timers.clear();
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(new Error('FakeDiscord stopped'));
    }
    this.waiters = [];
    await this.http?.close();
  }

  /** The webhook id in a webhook URL (`…/api/webhooks/<id>/<token>`, versioned or not). */
  static webhookIdOf(url: string): string {
    const match = /\/api(?:\/v\d+)?\/webhooks\/([^/]+)\//.exec(new URL(url).pathname);
    if (!match) throw new Error('not a Discord webhook URL');
    return safeDecode(match[1]);
  }

  /**
   * `http://127.0.0.1:<port>/api/webhooks/<id>/<token>` — a new webhook each call unless `id` is given. `token`
   * fixes the token of a new webhook (to stand in again for a webhook of an earlier fake, across a restart).
   */
  webhookUrl(id?: string, token?: string): string {
    const webhook = this.webhook(id ?? this.snowflake(), token);
    return `${this.baseUrl}/api/webhooks/${webhook.id}/${webhook.token}`;
  }

  /** Accepted messages of one webhook, in arrival order. */
  messagesFor(webhookId: string): FakeDiscordMessage[] {
    return this.messages.filter((m) => m.webhookId === webhookId);
  }

  /**
   * Queues answers for the next requests to a webhook, one per request, before rate limiting (a queued request
   * does not use the bucket). A non-2xx answer is sent as given and records no message; a 429 gets `Retry-After`
   * and `X-RateLimit-*` headers derived from `body.retry_after` unless `headers` sets them. A 2xx answer still
   * validates and records the message (at arrival), then answers with this status, `body` (default: the message
   * object, none for 204) and delay — `{ status: 200, delayMs: 3000 }` is a slow Discord that did save the message.
   * Answers to a deleted webhook or a wrong token take precedence and do not consume the queue.
   */
  respondNext(webhookId: string, ...responses: FakeDiscordResponse[]): void {
    this.webhook(webhookId).faults.push(...responses);
  }

  /**
   * How this webhook answers a saved message from now on (see `DISCORD_SUCCESS_SHAPES`); `undefined` goes back to
   * the fake's `replyShape` option, else Discord's own answer (the message object with `?wait=true`, 204 without).
   */
  setReplyShape(webhookId: string, shape: DiscordSuccessShape | undefined): void {
    this.webhook(webhookId).replyShape = shape;
  }

  /** Makes a webhook dead: every request answers 404 {code:10015, message:'Unknown Webhook'}. */
  deleteWebhook(webhookId: string): void {
    this.webhook(webhookId).deleted = true;
  }

  /** Resolves with the webhook's messages once it has at least `count`; rejects after `timeoutMs` (default 5000). */
  waitForMessages(webhookId: string, count: number, timeoutMs = 5000): Promise<FakeDiscordMessage[]> {
    const existing = this.messagesFor(webhookId);
    if (existing.length >= count) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(new Error(`webhook ${webhookId}: ${this.messagesFor(webhookId).length} of ${count} messages within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push({ webhookId, count, resolve, reject, timer });
    });
  }

  private webhook(id: string, token?: string): Webhook {
    let webhook = this.webhooks.get(id);
    if (!webhook) {
      webhook = {
        id,
        token: token ?? randomBytes(51).toString('base64url'),
        channelId: this.snowflake(),
        bucket: createHash('sha256').update(`webhook:${id}`).digest('hex').slice(0, 32),
        deleted: false,
        faults: [],
        windowStart: 0,
        used: 0,
      };
      this.webhooks.set(id, webhook);
    }
    return webhook;
  }

  private snowflake(): string {
    return String(((BigInt(Date.now()) - DISCORD_EPOCH) << 22n) | (this.sequence++ & 0x3fffffn));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = performance.now();
    res.on('error', () => {});
    const url = new URL(req.url ?? '/', 'http://fake-discord');
    const route = /^\/api(?:\/v\d+)?\/webhooks\/([^/]+)\/([^/]+)\/?$/.exec(url.pathname);
    const webhookId = route ? safeDecode(route[1]) : '';
    let answer: Answer;
    try {
      const raw = await readBody(req, this.options.maxBodyBytes ?? 25 * 1024 * 1024);
      answer = await this.answer(req, url, route, webhookId, raw, at);
    } catch (error) {
      answer = { status: 500, body: { message: `FakeDiscord: ${errorMessage(error)}`, code: 0 } };
    }
    this.requests.push({ webhookId, status: answer.status, at });
    if (answer.delayMs) await this.delay(answer.delayMs);
    if (res.destroyed || res.headersSent) return;
    if (answer.raw?.chunked) {
      // No length: Node sends the body chunked (here, the terminating chunk alone).
      res.writeHead(answer.status, { ...(answer.raw.contentType ? { 'content-type': answer.raw.contentType } : {}), ...answer.headers });
      res.flushHeaders();
      res.end();
      return;
    }
    const payload = answer.raw ? answer.raw.text : answer.body === undefined || answer.status === 204 ? '' : JSON.stringify(answer.body);
    const contentType = answer.raw ? answer.raw.contentType : payload ? 'application/json' : undefined;
    res.writeHead(answer.status, {
      ...(contentType ? { 'content-type': contentType } : {}),
      'content-length': Buffer.byteLength(payload),
      ...answer.headers,
    });
    res.end(payload);
  }

  private async answer(req: IncomingMessage, url: URL, route: RegExpExecArray | null, webhookId: string, raw: Buffer | undefined, at: number): Promise<Answer> {
    if (req.method !== 'POST' || !route) return NOT_FOUND;
    const webhook = this.webhooks.get(webhookId);
    if (!webhook || webhook.deleted) return UNKNOWN_WEBHOOK;
    if (safeDecode(route[2]) !== webhook.token) return INVALID_TOKEN;

    const fault = webhook.faults.shift();
    if (fault && (fault.status < 200 || fault.status > 299)) {
      return { ...fault, headers: { ...this.faultHeaders(webhook, fault, at), ...fault.headers } };
    }
    if (!fault) {
      const limited = this.take(webhook, at);
      if (limited) return limited;
    }
    const headers = this.rateHeaders(webhook, at);
    if (raw === undefined) return { ...TOO_LARGE, headers };

    const parsed = await parseBody(req.headers['content-type'], raw);
    if ('status' in parsed) return { ...parsed, headers };
    const problem = validate(parsed.payload, parsed.files.length);
    if (problem) return { ...problem, headers };

    const wait = ['true', '1'].includes((url.searchParams.get('wait') ?? '').toLowerCase());
    const message: FakeDiscordMessage = {
      id: this.snowflake(),
      webhookId,
      content: typeof parsed.payload.content === 'string' ? parsed.payload.content : '',
      allowedMentions: parsed.payload.allowed_mentions,
      flags: parsed.payload.flags,
      embeds: Array.isArray(parsed.payload.embeds) ? parsed.payload.embeds : [],
      files: parsed.files,
      wait,
      receivedAt: at,
    };
    this.record(message);
    if (fault) {
      const body = fault.body ?? (fault.status === 204 ? undefined : this.messageObject(webhook, message));
      return { status: fault.status, body, raw: fault.raw, delayMs: fault.delayMs, headers: { ...headers, ...fault.headers } };
    }
    return { ...this.saved(webhook, message, webhook.replyShape ?? this.options.replyShape ?? (wait ? 'message' : 'no-content')), headers };
  }

  /** The answer to a saved message, in `shape`. */
  private saved(webhook: Webhook, message: FakeDiscordMessage, shape: DiscordSuccessShape): Answer {
    switch (shape) {
      case 'message':
        return { status: 200, body: this.messageObject(webhook, message) };
      case 'no-content':
        return { status: 204 };
      case 'empty':
        return { status: 200, raw: { text: '' } };
      case 'empty-json-chunked':
        return { status: 200, raw: { text: '', contentType: 'application/json', chunked: true } };
      case 'extra-fields':
        return {
          status: 200,
          raw: {
            contentType: 'application/json; charset=utf-8',
            text: JSON.stringify({ ...this.messageObject(webhook, message), interaction_metadata: null, future_field: { nested: [1] }, position: 0 }),
          },
        };
    }
  }

  private record(message: FakeDiscordMessage): void {
    this.messages.push(message);
    this.waiters = this.waiters.filter((w) => {
      if (w.webhookId !== message.webhookId) return true;
      const all = this.messagesFor(w.webhookId);
      if (all.length < w.count) return true;
      clearTimeout(w.timer);
      w.resolve(all);
      return false;
    });
  }

  /** Fixed window per webhook, opened by its first request. Returns the 429 when the bucket is empty. */
  private take(webhook: Webhook, now: number): Answer | undefined {
    const limit = this.options.rateLimit;
    if (!limit) return undefined;
    if (webhook.used === 0 || now - webhook.windowStart >= limit.windowMs) {
      webhook.windowStart = now;
      webhook.used = 0;
    }
    if (webhook.used < limit.requests) {
      webhook.used++;
      return undefined;
    }
    const retryAfter = Number(seconds(webhook.windowStart + limit.windowMs - now));
    return {
      status: 429,
      body: { message: 'You are being rate limited.', retry_after: retryAfter, global: false },
      headers: { ...this.rateHeaders(webhook, now), 'retry-after': String(Math.ceil(retryAfter)), 'x-ratelimit-scope': 'user' },
    };
  }

  /** The bucket's current state as Discord's headers (none without `rateLimit`). */
  private rateHeaders(webhook: Webhook, now: number): Record<string, string> {
    const limit = this.options.rateLimit;
    if (!limit) return {};
    const expired = webhook.used === 0 || now - webhook.windowStart >= limit.windowMs;
    const resetAfterMs = expired ? limit.windowMs : webhook.windowStart + limit.windowMs - now;
    return {
      'x-ratelimit-limit': String(limit.requests),
      'x-ratelimit-remaining': String(expired ? limit.requests : limit.requests - webhook.used),
      'x-ratelimit-reset': seconds(Date.now() + resetAfterMs),
      'x-ratelimit-reset-after': seconds(resetAfterMs),
      'x-ratelimit-bucket': webhook.bucket,
    };
  }

  private faultHeaders(webhook: Webhook, fault: FakeDiscordResponse, now: number): Record<string, string> {
    const headers = this.rateHeaders(webhook, now);
    if (fault.status !== 429) return headers;
    const body = (fault.body ?? {}) as { retry_after?: unknown; global?: unknown };
    const retryAfter = typeof body.retry_after === 'number' ? body.retry_after : 1;
    return {
      ...headers,
      'x-ratelimit-limit': String(this.options.rateLimit?.requests ?? 5),
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': seconds(Date.now() + retryAfter * 1000),
      'x-ratelimit-reset-after': seconds(retryAfter * 1000),
      'x-ratelimit-bucket': webhook.bucket,
      'x-ratelimit-scope': body.global === true ? 'global' : 'user',
      ...(body.global === true ? { 'x-ratelimit-global': 'true' } : {}),
      'retry-after': String(Math.ceil(retryAfter)),
    };
  }

  private messageObject(webhook: Webhook, message: FakeDiscordMessage): Record<string, unknown> {
    return {
      id: message.id,
      type: 0,
      content: message.content,
      channel_id: webhook.channelId,
      author: { id: webhook.id, username: 'Fake Discord', avatar: null, discriminator: '0000', bot: true },
      attachments: message.files.map((file) => {
        const id = this.snowflake();
        return {
          id,
          filename: file.name,
          size: Buffer.byteLength(file.content),
          url: `${this.baseUrl}/attachments/${webhook.channelId}/${id}/${encodeURIComponent(file.name)}`,
          content_type: 'text/plain; charset=utf-8',
        };
      }),
      embeds: message.embeds,
      mentions: [],
      mention_roles: [],
      mention_everyone: false,
      pinned: false,
      tts: false,
      timestamp: new Date().toISOString(),
      edited_timestamp: null,
      flags: typeof message.flags === 'number' ? message.flags : 0,
      components: [],
      webhook_id: webhook.id,
    };
  }

  private delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const pending = {
        fire: () => resolve(),
        timer: setTimeout(() => {
          this.timers.delete(pending);
          resolve();
        }, ms),
      };
      this.timers.add(pending);
    });
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The body, or undefined when it exceeds `max` bytes (the rest is drained). */
async function readBody(req: IncomingMessage, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= max) chunks.push(chunk as Buffer);
  }
  return size > max ? undefined : Buffer.concat(chunks);
}

type Parsed = { payload: Payload; files: Array<{ name: string; content: string }> };

/** JSON, or multipart with `payload_json` (or plain fields) and `files[n]`, like Discord accepts. */
async function parseBody(contentType: string | undefined, raw: Buffer): Promise<Parsed | Answer> {
  const type = (contentType ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data')) {
    let form: FormData;
    try {
      form = await new Request('http://fake-discord', { method: 'POST', headers: { 'content-type': contentType! }, body: raw }).formData();
    } catch {
      return invalidFormBody('_form', 'FORM_INVALID', 'Could not parse the multipart body.');
    }
    let payload: Payload = {};
    const files: Parsed['files'] = [];
    for (const [name, value] of form.entries()) {
      if (typeof value !== 'string') {
        files.push({ name: value.name, content: await value.text() });
      } else if (name === 'payload_json') {
        const json = parseJson(value);
        if (json === undefined) return INVALID_JSON;
        payload = { ...payload, ...json };
      } else if (!(name in payload)) {
        payload[name] = value;
      }
    }
    return { payload, files };
  }
  if (type.startsWith('application/json') || (raw.length === 0 && type === '')) {
    if (raw.length === 0) return { payload: {}, files: [] };
    const json = parseJson(raw.toString('utf8'));
    return json === undefined ? INVALID_JSON : { payload: json, files: [] };
  }
  return invalidFormBody('_form', 'CONTENT_TYPE_INVALID', `Unsupported content type ${type || '(none)'}.`);
}

function parseJson(text: string): Payload | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Payload) : undefined;
  } catch {
    return undefined;
  }
}

/** What Discord refuses with 400 {code:50035}. */
function validate(payload: Payload, fileCount: number): Answer | undefined {
  const { content, allowed_mentions: allowedMentions, embeds } = payload;
  if (content !== undefined && content !== null && typeof content !== 'string') {
    return invalidFormBody('content', 'BASE_TYPE_STRING', 'Must be a string.');
  }
  if (typeof content === 'string' && codePoints(content) > CONTENT_LIMIT) {
    return invalidFormBody('content', 'BASE_TYPE_MAX_LENGTH', `Must be ${CONTENT_LIMIT} or fewer in length.`);
  }
  if (allowedMentions !== undefined && allowedMentions !== null) {
    const parse = (allowedMentions as { parse?: unknown }).parse;
    const valid =
      typeof allowedMentions === 'object' &&
      !Array.isArray(allowedMentions) &&
      (parse === undefined || (Array.isArray(parse) && parse.every((p) => MENTION_TYPES.has(p as string))));
    if (!valid) return invalidFormBody('allowed_mentions', 'BASE_TYPE_CHOICES', 'Value must be one of {"roles", "users", "everyone"}.');
  }
  if (embeds !== undefined && embeds !== null && (!Array.isArray(embeds) || embeds.length > 10)) {
    return invalidFormBody('embeds', 'BASE_TYPE_MAX_LENGTH', 'Must be an array of 10 or fewer embeds.');
  }
  const hasContent = typeof content === 'string' && content.trim() !== '';
  const hasEmbeds = Array.isArray(embeds) && embeds.length > 0;
  if (!hasContent && !hasEmbeds && fileCount === 0) {
    return invalidFormBody('content', 'BASE_TYPE_REQUIRED', 'Cannot send an empty message.');
  }
  return undefined;
}
