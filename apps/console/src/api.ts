import type { CallPage, Session, Stats, Timeline } from './types';

// The console's calls to the bridge (docs/console.md): same-origin, with the session cookie. A 401 from any of
// them (but the sign-in itself) sends the user to the sign-in page; nothing here is ever logged.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

let unauthorized: () => void = () => {};
export function onUnauthorized(handler: () => void): void {
  unauthorized = handler;
}
export function reportUnauthorized(): void {
  unauthorized();
}

let csrfToken: string | undefined;
export function setSession(session: Session | null): void {
  csrfToken = session?.csrfToken;
}

function messageOf(body: unknown, status: number): string {
  const message = (body as { message?: unknown } | null)?.message;
  if (Array.isArray(message)) return message.map(String).join('; ');
  if (typeof message === 'string' && message !== '') return message;
  return `The bridge answered ${status}.`;
}

function retryAfter(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

interface Options {
  method?: 'GET' | 'POST' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
  /** A 401 is the answer itself (sign-in, session probe), not a reason to go to sign-in. */
  expect401?: boolean;
}

async function request<T>(path: string, options: Options = {}): Promise<T> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken !== undefined) headers['x-csrf-token'] = csrfToken;
  const init: RequestInit = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (options.body !== undefined) init.body = JSON.stringify(options.body);
  if (options.signal) init.signal = options.signal;
  const response = await fetch(path, init);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = null;
  }
  if (!response.ok) {
    if (response.status === 401 && !options.expect401) unauthorized();
    throw new ApiError(response.status, messageOf(body, response.status), retryAfter(response.headers.get('retry-after')));
  }
  return body as T;
}

export type Query = Record<string, string | undefined>;

export function queryString(query: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(key, value);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

export const api = {
  signIn: (token: string) => request<Session>('/console/api/session', { method: 'POST', body: { token }, expect401: true }),
  session: () => request<Session>('/console/api/session', { expect401: true }),
  signOut: () => request<void>('/console/api/session', { method: 'DELETE', expect401: true }),
  calls: (query: Query, signal?: AbortSignal) => request<CallPage>(`/calls${queryString(query)}`, signal ? { signal } : {}),
  /** Every live call, a page of 100 at a time (a replica holds at most MAX_CONCURRENT_CALLS; at most 5,000 here). */
  liveCalls: async (signal?: AbortSignal): Promise<CallPage> => {
    const calls: CallPage['calls'] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 50; page++) {
      const next = await api.calls({ state: 'live', limit: '100', ...(cursor ? { cursor } : {}) }, signal);
      calls.push(...next.calls);
      cursor = next.nextCursor;
      if (!cursor) break;
    }
    return { calls };
  },
  timeline: (callId: string, signal?: AbortSignal) =>
    request<Timeline>(`/calls/${encodeURIComponent(callId)}/timeline`, signal ? { signal } : {}),
  stats: (window: '24h' | '7d', signal?: AbortSignal) =>
    request<Stats>(`/console/api/stats${queryString({ window })}`, signal ? { signal } : {}),
};

export const exportUrl = (callId: string, format: 'json' | 'csv' | 'text'): string =>
  `/calls/${encodeURIComponent(callId)}/export${queryString({ format })}`;

export const exportCsvUrl = (query: Query): string => `/calls/export.csv${queryString(query)}`;

export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  return 'The bridge could not be reached.';
}
