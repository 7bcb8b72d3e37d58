import type { HttpStatus } from '@nestjs/common';

/** How a failure is logged when it becomes an HTTP answer; `none` when its library has logged it already. */
export type HttpErrorLogLevel = 'log' | 'warn' | 'error' | 'none';

/**
 * An error a library raises that means something in HTTP. The library decides its status, its public body (never
 * the detail: that goes to the log, so a sender learns nothing of our internals) and how it is logged;
 * `HttpErrorsFilter` is the one place that writes it to the response.
 */
export abstract class HttpMappedError extends Error {
  abstract get httpStatus(): HttpStatus | number;
  /** What the client sees. */
  abstract get httpBody(): Record<string, unknown>;
  /** Extra response headers (`retry-after` …). */
  get httpHeaders(): Record<string, string> {
    return {};
  }
  get logLevel(): HttpErrorLogLevel {
    return 'warn';
  }
  /** The logger context of its line (its library's name). */
  get logContext(): string {
    return 'HttpErrors';
  }
  /** The log line (its library's words); the message by default. */
  get logLine(): string {
    return this.message;
  }
}
