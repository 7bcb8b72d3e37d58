import { AsyncLocalStorage } from 'node:async_hooks';
import type { LoggerService } from '@nestjs/common';
import pino, { type DestinationStream, type Level, type Logger } from 'pino';
import { Redactor } from './redactor.js';

/** What every log line written while handling one HTTP request carries. */
export interface RequestScope {
  reqId: string;
  /**
   * False once the response is sent: work the request started and that outlives it (a call's sideband, opened
   * after the accept) inherits the scope, but its lines are no longer about the request.
   */
  open: boolean;
}

/** The request being handled, if any (set by the HTTP logging middleware). */
export const requestScope = new AsyncLocalStorage<RequestScope>();

export type NestLogLevel = 'error' | 'warn' | 'log' | 'debug' | 'verbose';

const PINO_LEVEL: Record<NestLogLevel | 'fatal', Level> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
};

/** Nest's own start-up chatter (one line per module and route): kept, but at debug. */
const NEST_INTERNALS = new Set(['InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestFactory', 'NestApplication']);

/** A call's lines start with `[<callId>]`; the id becomes the `callId` field. */
const CALL_PREFIX = /^\[([A-Za-z0-9_.:-]{3,100})\]\s*/;

export interface BridgeLoggerOptions {
  level?: NestLogLevel;
  /** Keep phone numbers and SIP URIs (never secrets). */
  pii?: boolean;
  /** Exact values to remove wherever they appear (the service's secrets). */
  secrets?: Iterable<string>;
  /** Where lines go (default: stdout, synchronously). */
  destination?: DestinationStream;
  /** Extra fields on every line. */
  base?: Record<string, unknown>;
}

/**
 * The service's logger: JSON lines through pino, one field per fact (`context`, `callId`, `reqId`, `err`), every
 * message and stack passed through the `Redactor`. Installed as Nest's logger, so `new Logger(X).log(...)` anywhere
 * in the code lands here.
 */
export class BridgeLogger implements LoggerService {
  readonly pino: Logger;
  readonly redactor: Redactor;

  constructor(options: BridgeLoggerOptions = {}) {
    this.redactor = new Redactor(options.secrets ?? [], options.pii ?? false);
    this.pino = pino(
      {
        level: PINO_LEVEL[options.level ?? 'log'],
        base: { ...options.base },
        messageKey: 'msg',
        timestamp: pino.stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        // No path-based `redact`: the only objects that reach pino are this class's own fields (every string in them
        // passed through the Redactor) and the HTTP line's serializers (method, path, status), so it had nothing to
        // find, and it walked every line for it.
      },
      // `dest: 1`, not `fd: 1`: given no `dest`, pino reads `process.stdout.fd`, and opening process.stdout makes a
      // piped stdout (a container's) non-blocking. A synchronous write to a full pipe then fails with EAGAIN, and
      // pino's writer sleeps 100 ms on the event loop before each retry, however soon the reader catches up; on a
      // blocking pipe the write waits just as long as the reader takes.
      options.destination ?? pino.destination({ dest: 1, sync: true }),
    );
  }

  log(message: unknown, ...params: unknown[]): void {
    this.write('log', message, params);
  }
  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params);
  }
  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }
  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }
  verbose(message: unknown, ...params: unknown[]): void {
    this.write('verbose', message, params);
  }
  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params);
  }

  /** Writes everything buffered (the default destination is synchronous; a file destination may not be). */
  flush(): void {
    this.pino.flush();
  }

  private write(level: NestLogLevel | 'fatal', message: unknown, params: unknown[]): void {
    // Nest passes the logger's context last, and for errors the stack before it.
    let context: string | undefined;
    let stack: string | undefined;
    const rest = [...params];
    if (rest.length > 0 && typeof rest[rest.length - 1] === 'string' && !(rest[rest.length - 1] as string).includes('\n')) {
      context = rest.pop() as string;
    }
    if ((level === 'error' || level === 'fatal') && typeof rest[0] === 'string') stack = rest.shift() as string;
    const pinoLevel = context && NEST_INTERNALS.has(context) && level === 'log' ? 'debug' : PINO_LEVEL[level];
    if (!this.pino.isLevelEnabled(pinoLevel)) return;

    const fields: Record<string, unknown> = {};
    if (context) fields.context = context;
    let text: string;
    if (message instanceof Error) {
      text = message.message;
      stack ??= message.stack;
    } else if (typeof message === 'string') {
      text = message;
    } else {
      text = safeJson(message);
    }
    const call = CALL_PREFIX.exec(text);
    if (call) {
      fields.callId = call[1];
      text = text.slice(call[0].length);
    }
    const scope = requestScope.getStore();
    if (scope?.open) fields.reqId = scope.reqId;
    if (stack) fields.err = { stack: this.redactor.redact(stack) };
    if (rest.length > 0) fields.detail = this.redactor.redact(rest.map(safeJson).join(' '));
    this.pino[pinoLevel](fields, this.redactor.redact(text));
  }
}

function safeJson(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
