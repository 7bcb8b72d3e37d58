import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { authConfig } from './auth.config.js';
import { isRole, type Role } from './roles.js';
import type { ConfigType } from '#config';
import { Clock } from '#resilience';

/** The cookie that carries a console session. */
export const SESSION_COOKIE = 'console_session';

/** A verified session. */
export interface ConsoleSession {
  role: Role;
  expiresAt: Date;
  /** What a state-changing request must send as `X-CSRF-Token`. */
  csrfToken: string;
}

/** A new session and the cookie value that carries it. */
export interface IssuedSession extends ConsoleSession {
  cookie: string;
}

const VERSION = 'v1';

/**
 * Console sessions as signed, self-contained cookies: `v1.<payload>.<HMAC-SHA256>`, the payload holding the role,
 * the expiry and a random nonce (never the token). Any replica verifies any replica's session with the same key and
 * nothing is stored. The CSRF token is an HMAC of the session's nonce, so it belongs to that one session and cannot
 * be forged without the key (the synchronizer-token pattern, without server state).
 *
 * Signing out clears the cookie in the browser; a copy of the cookie taken before stays valid until it expires
 * (the cookie is HttpOnly, so page scripts cannot take one). Rotating ADMIN_API_TOKEN (or CONSOLE_SESSION_SECRET)
 * ends every session.
 */
@Injectable()
export class ConsoleSessions {
  private readonly key?: Buffer;
  private readonly ttlMs: number;

  constructor(
    @Inject(authConfig.KEY) config: ConfigType<typeof authConfig>,
    private readonly clock: Clock,
  ) {
    this.ttlMs = config.sessionTtlMs;
    const secret = config.sessionSecret ?? config.adminApiToken;
    if (secret) {
      this.key = Buffer.from(hkdfSync('sha256', secret, 'sip-realtime-bridge console', 'session signing v1', 32));
    }
  }

  get ttlSeconds(): number {
    return Math.floor(this.ttlMs / 1000);
  }

  issue(role: Role): IssuedSession {
    const key = this.requireKey();
    const expiresAt = this.clock.now() + this.ttlMs;
    const nonce = randomBytes(16).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ r: role, e: expiresAt, n: nonce })).toString('base64url');
    const body = `${VERSION}.${payload}`;
    return { cookie: `${body}.${sign(key, body)}`, role, expiresAt: new Date(expiresAt), csrfToken: sign(key, `csrf.${nonce}`) };
  }

  /** The session a cookie value carries, or undefined when it is missing, malformed, tampered with or expired. */
  verify(cookie: string | undefined): ConsoleSession | undefined {
    if (!this.key || !cookie || cookie.length > 1024) return undefined;
    const parts = cookie.split('.');
    if (parts.length !== 3 || parts[0] !== VERSION) return undefined;
    const body = `${parts[0]}.${parts[1]}`;
    const expected = Buffer.from(sign(this.key, body));
    const given = Buffer.from(parts[2]);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    } catch {
      return undefined;
    }
    if (payload === null || typeof payload !== 'object') return undefined;
    const { r, e, n } = payload as Record<string, unknown>;
    if (!isRole(r) || typeof e !== 'number' || typeof n !== 'string' || e <= this.clock.now()) return undefined;
    return { role: r, expiresAt: new Date(e), csrfToken: sign(this.key, `csrf.${n}`) };
  }

  /** Whether `given` is the session's CSRF token (compared in constant time). */
  csrfMatches(session: ConsoleSession, given: string | undefined): boolean {
    if (!given) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(session.csrfToken);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private requireKey(): Buffer {
    if (!this.key) throw new Error('console sessions need ADMIN_API_TOKEN');
    return this.key;
  }
}

function sign(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('base64url');
}
