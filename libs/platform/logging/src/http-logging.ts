import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pinoHttp } from 'pino-http';
import { requestScope, type BridgeLogger } from './bridge-logger.js';

/** Probes and scrapes: every few seconds from Kubernetes and Prometheus, logged only at debug. */
const QUIET_PATHS = new Set(['/health', '/health/ready', '/metrics']);
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

type Next = (error?: unknown) => void;

/**
 * Express middleware: one line per finished request (method, path without its query, status, time, request id),
 * and the request id on every line written while the request is handled. A caller's `X-Request-Id` is kept when it
 * is well-formed, and echoed back.
 */
export function httpLogging(logger: BridgeLogger): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  const redactor = logger.redactor;
  const middleware = pinoHttp({
    logger: logger.pino,
    genReqId(req, res) {
      const given = req.headers['x-request-id'];
      const id = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
      res.setHeader('x-request-id', id);
      return id;
    },
    customAttributeKeys: { reqId: 'reqId' },
    quietReqLogger: true,
    wrapSerializers: false,
    serializers: {
      // The query string may carry phone numbers (records API filters): never logged.
      req: (req: { method?: string; url?: string }) => ({ method: req.method, path: redactor.redact((req.url ?? '').split('?')[0]) }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
      err: (err: Error) => ({ type: err.name, message: redactor.redact(err.message) }),
    },
    customLogLevel(req, res, error) {
      if (error || res.statusCode >= 500) return 'error';
      if (res.statusCode >= 400) return 'warn';
      return QUIET_PATHS.has((req.url ?? '').split('?')[0]) ? 'debug' : 'info';
    },
    customSuccessMessage: (req, res) => `${req.method} ${res.statusCode}`,
    customErrorMessage: (req, res) => `${req.method} ${res.statusCode}`,
  });
  return (req, res, next) => {
    middleware(req, res);
    const scope = { reqId: String((req as IncomingMessage & { id?: unknown }).id), open: true };
    res.once('finish', () => (scope.open = false));
    res.once('close', () => (scope.open = false));
    requestScope.run(scope, next);
  };
}
