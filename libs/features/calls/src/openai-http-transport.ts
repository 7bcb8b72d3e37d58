import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { OnApplicationShutdown } from '@nestjs/common';

/** Statuses whose response has no body by definition (the Response constructor refuses one). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * How long an idle connection is kept for the next request (ms), as undici's fetch does: closing it ourselves first
 * avoids reusing one the server has just closed (a request that fails at once and is retried).
 */
export const IDLE_CONNECTION_MS = 4000;

/**
 * The OpenAI SDK's transport, handed to it through its documented `fetch` option: Node's own HTTP client on
 * keep-alive connections instead of the platform's `fetch`. Accepting a call is on the critical path of every call,
 * and the platform's fetch (undici's WHATWG request, stream and header machinery) was the largest single cost of
 * the webhook → accept path: about a sixth of its CPU and a fifth of its allocations (`npm run bench`). The SDK
 * keeps everything else: headers, retries, timeouts (through the abort signal given here), error types.
 *
 * Requests this transport does not cover (a `Request` object, streamed or form bodies, other schemes) go to the
 * platform's fetch unchanged; the service sends none today. Provided by a factory (CallsModule): its constructor
 * takes a setting, not dependencies.
 */
export class OpenAIHttpTransport implements OnApplicationShutdown {
  private readonly http: HttpAgent;
  private readonly https: HttpsAgent;

  /** `idleMs`: see IDLE_CONNECTION_MS (a request in progress is never cut: the SDK's timeout bounds it). */
  constructor(idleMs = IDLE_CONNECTION_MS) {
    this.http = new HttpAgent({ keepAlive: true, timeout: idleMs });
    this.https = new HttpsAgent({ keepAlive: true, timeout: idleMs });
  }

  readonly fetch: typeof globalThis.fetch = (input, init) => this.send(input, init);

  onApplicationShutdown(): void {
    this.http.destroy();
    this.https.destroy();
  }

  private send(input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
    const { body } = init;
    const plainBody = body === undefined || body === null || typeof body === 'string' || body instanceof Uint8Array;
    if (input instanceof Request || !plainBody) return globalThis.fetch(input, init);
    let url: URL;
    try {
      url = typeof input === 'string' ? new URL(input) : input;
    } catch (error) {
      return Promise.reject(error);
    }
    const secure = url.protocol === 'https:';
    if (!secure && url.protocol !== 'http:') return globalThis.fetch(input, init);

    return new Promise<Response>((resolve, reject) => {
      const request = (secure ? httpsRequest : httpRequest)(
        url,
        {
          method: init.method ?? 'GET',
          headers: toHeaderRecord(init.headers),
          agent: secure ? this.https : this.http,
          ...(init.signal ? { signal: init.signal } : {}),
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.once('error', reject);
          response.once('end', () => {
            try {
              resolve(toResponse(response, Buffer.concat(chunks)));
            } catch (error) {
              reject(error);
            }
          });
        },
      );
      request.once('error', reject);
      request.end(body ?? undefined);
    });
  }
}

function toHeaderRecord(headers: RequestInit['headers']): Record<string, string> {
  const record: Record<string, string> = {};
  if (!headers) return record;
  const entries: Iterable<readonly [string, string]> =
    headers instanceof Headers || Array.isArray(headers) ? (headers as Iterable<[string, string]>) : Object.entries(headers as Record<string, string>);
  for (const [name, value] of entries) record[name] = value;
  return record;
}

function toResponse(message: IncomingMessage, body: Buffer): Response {
  const status = message.statusCode ?? 0;
  const headers = new Headers();
  const raw = message.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    try {
      headers.append(raw[i], raw[i + 1]);
    } catch {
      // A header the Fetch standard refuses (an invalid name or value) is left out, as fetch itself would refuse it.
    }
  }
  return new Response(NULL_BODY_STATUSES.has(status) ? null : body, { status, statusText: message.statusMessage ?? '', headers });
}
