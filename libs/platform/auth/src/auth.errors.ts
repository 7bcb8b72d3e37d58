import { HttpStatus } from '@nestjs/common';
import { HttpMappedError } from '#http';

export type AuthFailure = 'disabled' | 'unauthenticated' | 'wrong_token' | 'forbidden' | 'csrf' | 'rate_limited' | 'bad_request';

const STATUS: Record<AuthFailure, number> = {
  disabled: HttpStatus.NOT_FOUND,
  unauthenticated: HttpStatus.UNAUTHORIZED,
  wrong_token: HttpStatus.UNAUTHORIZED,
  forbidden: HttpStatus.FORBIDDEN,
  csrf: HttpStatus.FORBIDDEN,
  rate_limited: HttpStatus.TOO_MANY_REQUESTS,
  bad_request: HttpStatus.BAD_REQUEST,
};

/**
 * Why a request was not let in. The body says what the client can do about it and nothing more; the log line
 * names the failure, never the token or the cookie.
 */
export class AuthError extends HttpMappedError {
  constructor(
    readonly failure: AuthFailure,
    readonly publicMessage: string,
    private readonly retryAfterSeconds?: number,
  ) {
    super(`${failure}: ${publicMessage}`);
    this.name = 'AuthError';
  }

  get httpStatus(): number {
    return STATUS[this.failure];
  }

  get httpBody(): Record<string, unknown> {
    return { statusCode: this.httpStatus, error: this.failure, message: this.publicMessage };
  }

  override get httpHeaders(): Record<string, string> {
    const headers: Record<string, string> = { 'cache-control': 'no-store' };
    if (this.failure === 'unauthenticated' || this.failure === 'wrong_token') headers['www-authenticate'] = 'Bearer';
    if (this.retryAfterSeconds !== undefined) headers['retry-after'] = String(this.retryAfterSeconds);
    return headers;
  }

  override get logLevel() {
    // Wrong tokens and CSRF refusals are what an operator wants to see; a missing session is every expired tab.
    return this.failure === 'wrong_token' || this.failure === 'csrf' || this.failure === 'rate_limited' ? ('warn' as const) : ('none' as const);
  }

  override get logContext(): string {
    return 'Auth';
  }
}
