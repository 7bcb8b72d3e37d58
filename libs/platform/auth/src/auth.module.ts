import { Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AdminCredentials } from './admin-credentials.js';
import { AdminGuard } from './admin.guard.js';
import { authConfig } from './auth.config.js';
import { ConsoleSessions } from './console-sessions.js';
import { SessionController } from './session.controller.js';
import { SigninLimiter } from './signin-limiter.js';

/**
 * Who may read calls and act on them: the admin token (bearer), console sessions (signed cookies) with their CSRF
 * defence, and the sign-in rate limit. Global: any feature's controller guards itself with `@AdminAccess(role)`.
 */
@Global()
@Module({
  imports: [ConfigModule.forFeature(authConfig)],
  controllers: [SessionController],
  providers: [AdminCredentials, ConsoleSessions, SigninLimiter, AdminGuard],
  exports: [AdminCredentials, ConsoleSessions, AdminGuard],
})
export class AuthModule {}
