export { AuthModule } from './auth.module.js';
export { authConfig, type AuthConfig } from './auth.config.js';
export { AdminAccess, AdminGuard } from './admin.guard.js';
export { AdminCredentials } from './admin-credentials.js';
export { ConsoleSessions, SESSION_COOKIE, type ConsoleSession, type IssuedSession } from './console-sessions.js';
export { AuthError, type AuthFailure } from './auth.errors.js';
export type { SessionAnswer } from './session.controller.js';
export { principalOf, type Principal } from './request-auth.js';
export { isRole, satisfies, ROLES, type Role } from './roles.js';
