import { Injectable, SetMetadata, UseGuards, applyDecorators, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AdminCredentials } from './admin-credentials.js';
import { AuthError } from './auth.errors.js';
import { ConsoleSessions } from './console-sessions.js';
import { bearerOf, isSameOrigin, isUnsafeMethod, sessionCookieOf, setPrincipal } from './request-auth.js';
import { satisfies, type Role } from './roles.js';

const NEEDED_ROLE = 'auth:role';

/**
 * Only for the admin token's holders: `Authorization: Bearer <token>`, or the console's session cookie. With the
 * cookie, a request that changes state must also carry its session's `X-CSRF-Token` and come from our own origin.
 * `role` is the least role the route needs (`viewer`, reading, by default). With no token configured the routes do
 * not exist (404).
 */
export function AdminAccess(role: Role = 'viewer') {
  return applyDecorators(SetMetadata(NEEDED_ROLE, role), UseGuards(AdminGuard));
}

@Injectable()
export class AdminGuard implements CanActivate {
  constructor(
    private readonly credentials: AdminCredentials,
    private readonly sessions: ConsoleSessions,
    private readonly reflector: Reflector,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    if (!this.credentials.enabled) throw new AuthError('disabled', 'not found');
    const request = context.switchToHttp().getRequest<Request>();
    const needed = this.reflector.getAllAndOverride<Role | undefined>(NEEDED_ROLE, [context.getHandler(), context.getClass()]) ?? 'viewer';

    const bearer = bearerOf(request);
    let role: Role;
    if (bearer !== undefined) {
      const granted = this.credentials.roleOf(bearer);
      if (!granted) throw new AuthError('unauthenticated', 'a valid bearer token is required');
      role = granted;
      setPrincipal(request, { role, via: 'bearer' });
    } else {
      const session = this.sessions.verify(sessionCookieOf(request));
      if (!session) throw new AuthError('unauthenticated', 'sign in, or send a valid bearer token');
      if (isUnsafeMethod(request.method)) {
        const header = request.headers['x-csrf-token'];
        if (!this.sessions.csrfMatches(session, typeof header === 'string' ? header : undefined) || !isSameOrigin(request)) {
          throw new AuthError('csrf', 'this request needs the session\'s X-CSRF-Token from the same origin');
        }
      }
      role = session.role;
      setPrincipal(request, { role, via: 'session' });
    }
    if (!satisfies(role, needed)) throw new AuthError('forbidden', `this needs the ${needed} role`);
    return true;
  }
}
