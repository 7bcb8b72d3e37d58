import type { ServerResponse } from 'node:http';

/**
 * The shapes a successful call-control answer (`accept`, `reject`, `refer`, `hangup`) may take. OpenAI documents
 * "200, no body" and says nothing of the content type; proxies and future versions of the API may send any of
 * these, and the bridge must take each as a success.
 */
export const SUCCESS_SHAPES = [
  /** 200, no content type, `content-length: 0` (what the real service has been seen to send). */
  'empty',
  /** 200, `content-type: application/json`, `content-length: 0`. */
  'empty-json',
  /** 200, `content-type: application/json`, a chunked empty body (no length): parsing it as JSON throws. */
  'empty-json-chunked',
  /** 200, no content type, a chunked empty body. */
  'chunked-empty',
  /** 200, `{}`. */
  'empty-object',
  /** 200, `null`. */
  'null',
  /** 200, `text/plain` `OK`. */
  'text',
  /** 200, a JSON object with fields nobody documented. */
  'extra-fields',
  /** 204 No Content. */
  'no-content',
] as const;

export type SuccessShape = (typeof SUCCESS_SHAPES)[number];

/**
 * The shapes an error answer may take: OpenAI's `{ error: {…} }`, a proxy's HTML page, nothing at all, or JSON
 * without `error`. Whatever the shape, the status is what the answer means.
 */
export const ERROR_SHAPES = ['openai-json', 'html', 'empty', 'json-without-error'] as const;

export type ErrorShape = (typeof ERROR_SHAPES)[number];

/** Writes a 2xx call-control answer in `shape`. */
export function writeSuccess(res: ServerResponse, shape: SuccessShape, callId: string): void {
  switch (shape) {
    case 'empty':
      return end(res, 200, {}, '');
    case 'empty-json':
      return end(res, 200, { 'content-type': 'application/json' }, '');
    case 'empty-json-chunked':
      return chunked(res, { 'content-type': 'application/json' });
    case 'chunked-empty':
      return chunked(res, {});
    case 'empty-object':
      return end(res, 200, { 'content-type': 'application/json' }, '{}');
    case 'null':
      return end(res, 200, { 'content-type': 'application/json; charset=utf-8' }, 'null');
    case 'text':
      return end(res, 200, { 'content-type': 'text/plain; charset=utf-8' }, 'OK');
    case 'extra-fields':
      return end(
        res,
        200,
        { 'content-type': 'application/json', 'x-request-id': `req_${callId.slice(-8)}` },
        JSON.stringify({ object: 'realtime.call', id: callId, status: 'ok', created_at: Math.floor(Date.now() / 1000), future_field: { nested: [1, 2] } }),
      );
    case 'no-content':
      return end(res, 204, {}, '');
  }
}

/** Writes an error answer: `body` is OpenAI's JSON for the `openai-json` shape. */
export function writeError(res: ServerResponse, status: number, shape: ErrorShape, body: unknown): void {
  switch (shape) {
    case 'openai-json':
      return end(res, status, { 'content-type': 'application/json' }, body === undefined ? '' : JSON.stringify(body));
    case 'html':
      return end(
        res,
        status,
        { 'content-type': 'text/html' },
        `<html>\r\n<head><title>${status} Bad Gateway</title></head>\r\n<body>\r\n<center><h1>${status} Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`,
      );
    case 'empty':
      return end(res, status, {}, '');
    case 'json-without-error':
      return end(res, status, { 'content-type': 'application/json' }, JSON.stringify({ message: 'something went wrong', status }));
  }
}

function end(res: ServerResponse, status: number, headers: Record<string, string>, payload: string): void {
  res.writeHead(status, { ...headers, ...(status === 204 ? {} : { 'content-length': String(Buffer.byteLength(payload)) }) });
  res.end(payload);
}

/** No content length: Node sends `transfer-encoding: chunked` and the terminating zero-length chunk. */
function chunked(res: ServerResponse, headers: Record<string, string>): void {
  res.writeHead(200, headers);
  res.flushHeaders();
  res.end();
}
