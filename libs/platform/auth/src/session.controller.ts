import { Controller, Delete, Get, HttpCode, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import getRawBody from 'raw-body';
import { AdminCredentials } from './admin-credentials.js';
import { AuthError } from './auth.errors.js';
import { ConsoleSessions, SESSION_COOKIE, type ConsoleSession } from './console-sessions.js';
import { isSameOrigin, sessionCookieOf } from './request-auth.js';
import { AdminAccess } from './admin.guard.js';
import { SigninLimiter } from './signin-limiter.js';

/** A sign-in body is one short token: anything larger is not one. */
const MAX_BODY_BYTES = 4096;

export interface SessionAnswer {
  role: ConsoleSession['role'];
  csrfToken: string;
  expiresAt: string;
}

/** The console's sign-in: the admin token in, a signed session cookie out (never the token). */
@Controller('console/api/session')
export class SessionController {
  constructor(
    private readonly credentials: AdminCredentials,
    private readonly sessions: ConsoleSessions,
    private readonly limiter: SigninLimiter,
  ) {}

  @Post()
  @HttpCode(200)
  async signIn(@Req() request: Request, @Res({ passthrough: true }) response: Response): Promise<SessionAnswer> {
    if (!this.credentials.enabled) throw new AuthError('disabled', 'not found');
    // A sign-in from another site's page would sign the browser in to the attacker's choice of account (login CSRF).
    if (!isSameOrigin(request)) throw new AuthError('csrf', 'sign in from the console\'s own page');
    const client = request.ip ?? 'unknown';
    const wait = this.limiter.retryAfterSeconds(client);
    if (wait > 0) throw new AuthError('rate_limited', `too many wrong tokens; try again in ${wait} s`, wait);
    const token = await readToken(request);
    const role = this.credentials.roleOf(token);
    if (!role) {
      this.limiter.recordFailure(client);
      throw new AuthError('wrong_token', 'wrong token');
    }
    const session = this.sessions.issue(role);
    response.setHeader('cache-control', 'no-store');
    response.setHeader('set-cookie', cookie(session.cookie, this.sessions.ttlSeconds, request.secure));
    return answer(session);
  }

  @Get()
  current(@Req() request: Request, @Res({ passthrough: true }) response: Response): SessionAnswer {
    if (!this.credentials.enabled) throw new AuthError('disabled', 'not found');
    const session = this.sessions.verify(sessionCookieOf(request));
    if (!session) throw new AuthError('unauthenticated', 'not signed in');
    response.setHeader('cache-control', 'no-store');
    return answer(session);
  }

  /** Needs the session's CSRF token, as every state change does (a page elsewhere cannot sign you out). */
  @Delete()
  @HttpCode(204)
  @AdminAccess('viewer')
  signOut(@Req() request: Request, @Res({ passthrough: true }) response: Response): void {
    response.setHeader('cache-control', 'no-store');
    response.setHeader('set-cookie', cookie('', 0, request.secure));
  }
}

function answer(session: ConsoleSession): SessionAnswer {
  return { role: session.role, csrfToken: session.csrfToken, expiresAt: session.expiresAt.toISOString() };
}

function cookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return [`${SESSION_COOKIE}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict', `Max-Age=${maxAgeSeconds}`, ...(secure ? ['Secure'] : [])].join('; ');
}

/** `{"token": "…"}` (JSON) or `token=…` (a plain HTML form); anything else is a 400 that changes nothing. */
async function readToken(request: Request): Promise<string> {
  let text: string;
  try {
    text = await getRawBody(request, { limit: MAX_BODY_BYTES, encoding: 'utf8' });
  } catch {
    throw new AuthError('bad_request', `the body must be {"token": "…"} of at most ${MAX_BODY_BYTES} bytes`);
  }
  const type = request.headers['content-type'] ?? '';
  let token: unknown;
  if (type.startsWith('application/x-www-form-urlencoded')) {
    token = new URLSearchParams(text).get('token');
  } else {
    try {
      const body: unknown = JSON.parse(text);
      token = body !== null && typeof body === 'object' ? (body as Record<string, unknown>).token : undefined;
    } catch {
      token = undefined;
    }
  }
  if (typeof token !== 'string' || token.length === 0 || token.length > 1024) {
    throw new AuthError('bad_request', 'the body must be {"token": "…"}');
  }
  return token;
}
