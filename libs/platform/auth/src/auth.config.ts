import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min, MinLength } from 'class-validator';
import { defineConfig } from '#config';

class AuthEnv {
  /**
   * The admin token: the records API's bearer token and the console's sign-in. The records API and the console are
   * off while it is unset.
   */
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'must be at least 16 characters (it protects transcripts)' })
  ADMIN_API_TOKEN?: string;

  /**
   * The key console session cookies are signed with. Unset: derived from ADMIN_API_TOKEN, so every replica signs
   * alike and rotating the token signs every session out. Set it to keep sessions across a token rotation.
   */
  @IsOptional()
  @IsString()
  @MinLength(32, { message: 'must be at least 32 characters' })
  CONSOLE_SESSION_SECRET?: string;

  /** How long a console session lasts from sign-in. */
  @Type(() => Number)
  @IsInt()
  @Min(5)
  @Max(7 * 24 * 60)
  CONSOLE_SESSION_MINUTES = 8 * 60;

  /** Wrong tokens one client may try per SIGNIN_WINDOW_SECONDS before it is answered 429. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  SIGNIN_MAX_FAILURES = 5;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(86_400)
  SIGNIN_WINDOW_SECONDS = 300;
}

export const authConfig = defineConfig('auth', AuthEnv, (env) => ({
  adminApiToken: env.ADMIN_API_TOKEN,
  sessionSecret: env.CONSOLE_SESSION_SECRET,
  sessionTtlMs: env.CONSOLE_SESSION_MINUTES * 60_000,
  signinMaxFailures: env.SIGNIN_MAX_FAILURES,
  signinWindowMs: env.SIGNIN_WINDOW_SECONDS * 1000,
}));

export type AuthConfig = ReturnType<typeof authConfig>;
