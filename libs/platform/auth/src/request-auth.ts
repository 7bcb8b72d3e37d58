import type { Request } from 'express';
import { SESSION_COOKIE } from './console-sessions.js';
import type { Role } from './roles.js';

/** Who a request was let in as, set on the request by `AdminGuard`. */
export interface Principal {
  role: Role;
  via: 'bearer' | 'session';
}

const PRINCIPAL = Symbol('principal');

export function principalOf(request: Request): Principal | undefined {
  return (request as Request & { [PRINCIPAL]?: Principal })[PRINCIPAL];
}

export function setPrincipal(request: Request, principal: Principal): void {
  (request as Request & { [PRINCIPAL]?: Principal })[PRINCIPAL] = principal;
}

/** The bearer token of `Authorization: Bearer …`, or undefined (a malformed header counts as a wrong token: ''). */
export function bearerOf(request: Request): string | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  return /^Bearer (\S+)$/i.exec(header)?.[1] ?? '';
}

/** The session cookie's value (the first, when a client sent several). */
export function sessionCookieOf(request: Request): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    if (pair.slice(0, eq).trim() === SESSION_COOKIE) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Whether a cookie-authenticated request that changes state comes from our own pages: `Origin`, when the browser
 * sends it, must name this host (`Host`, as the proxy passed it on); otherwise `Sec-Fetch-Site` must not say cross-site. The CSRF token is checked
 * besides: this is the second, independent defence (and the SameSite=Strict cookie a third).
 */
export function isSameOrigin(request: Request): boolean {
  const origin = request.headers.origin;
  if (origin !== undefined) {
    // The host only: behind a proxy that terminates TLS the page is https while this request may arrive as http.
    const host = request.get('host');
    try {
      return host !== undefined && new URL(origin).host === host;
    } catch {
      return false;
    }
  }
  const site = request.headers['sec-fetch-site'];
  return site === undefined || site === 'same-origin' || site === 'none';
}

/** Whether the method may change state (everything but GET, HEAD and OPTIONS). */
export function isUnsafeMethod(method: string): boolean {
  return method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';
}
