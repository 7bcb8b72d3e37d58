import { Catch, HttpException, HttpStatus, Injectable, Logger, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter, HttpAdapterHost } from '@nestjs/core';
import type { Request, Response } from 'express';
import { HttpMappedError } from './http-error.js';

/**
 * The one place a library's error becomes an HTTP answer (registered for the whole application by
 * `HttpErrorsModule`):
 * - an `HttpMappedError` answers with the status, body and headers its library chose, logged as it says;
 * - anything else gets Nest's own answer (`{ statusCode, message, error }` for an `HttpException`, 500 otherwise,
 *   logged with its stack) — or, on an `@OpaqueErrors()` controller (the webhooks), a short generic JSON body.
 */
@Catch()
@Injectable()
export class HttpErrorsFilter extends BaseExceptionFilter {
  /** Generic bodies for what is not an `HttpMappedError` (see `OpaqueErrors`). */
  protected readonly opaque: boolean = false;
  private readonly logger = new Logger('HttpErrors');
  private readonly loggers = new Map<string, Logger>();

  constructor(adapterHost: HttpAdapterHost) {
    super(adapterHost.httpAdapter);
  }

  override catch(error: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') return super.catch(error, host);
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    if (error instanceof HttpMappedError) {
      if (error.logLevel !== 'none') this.loggerFor(error.logContext)[error.logLevel](error.logLine);
      for (const [name, value] of Object.entries(error.httpHeaders)) response.setHeader(name, value);
      response.status(error.httpStatus).json(error.httpBody);
      return;
    }
    if (!this.opaque) return super.catch(error, host);
    if (error instanceof HttpException) {
      response.status(error.getStatus()).json({ error: 'request_failed' });
      return;
    }
    const request = http.getRequest<Request>();
    this.logger.error(`${request.method} ${request.path} failed: ${error instanceof Error ? error.stack : String(error)}`);
    response.status(HttpStatus.INTERNAL_SERVER_ERROR).json({ error: 'internal_error' });
  }

  private loggerFor(context: string): Logger {
    let logger = this.loggers.get(context);
    if (!logger) this.loggers.set(context, (logger = new Logger(context)));
    return logger;
  }
}

/** `HttpErrorsFilter` with generic bodies, for `@OpaqueErrors()` controllers. */
@Catch()
@Injectable()
export class OpaqueHttpErrorsFilter extends HttpErrorsFilter {
  protected override readonly opaque = true;
}
