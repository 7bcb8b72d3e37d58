import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, InternalServerError, NotFoundError } from 'openai';
import { OpenAIHttpTransport } from './openai-http-transport.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local server whose answer each test sets; it records every request it receives. */
let answer: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
const seen: Seen[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const transports: OpenAIHttpTransport[] = [];
function transport(idleMs?: number): OpenAIHttpTransport {
  const created = new OpenAIHttpTransport(idleMs);
  transports.push(created);
  return created;
}

afterEach(() => {
  seen.length = 0;
  for (const created of transports.splice(0)) created.onApplicationShutdown();
});

describe('OpenAIHttpTransport', () => {
  it('sends the method, headers and body given, and answers a Response with the status, headers and body received', async () => {
    answer = (_req, res) => {
      res.writeHead(201, 'Created', { 'content-type': 'application/json', 'x-request-id': 'req_1' });
      res.end('{"ok":true}');
    };
    const response = await transport().fetch(`${base}/v1/thing?x=1`, {
      method: 'POST',
      headers: new Headers({ authorization: 'Bearer sk-test', 'content-type': 'application/json' }),
      body: '{"a":1}',
    });
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/thing?x=1', body: '{"a":1}' });
    expect(seen[0].headers).toMatchObject({ authorization: 'Bearer sk-test', 'content-type': 'application/json', 'content-length': '7' });
    expect(response.status).toBe(201);
    expect(response.statusText).toBe('Created');
    expect(response.ok).toBe(true);
    expect(response.headers.get('x-request-id')).toBe('req_1');
    expect(await response.json()).toEqual({ ok: true });
  });

  it('answers a bodyless Response for 204, and keeps every value of a repeated header', async () => {
    answer = (_req, res) => {
      res.setHeader('x-many', ['a', 'b']);
      res.writeHead(204);
      res.end();
    };
    const response = await transport().fetch(`${base}/none`, { method: 'DELETE', headers: [['x-one', '1']] });
    expect(seen[0].headers['x-one']).toBe('1');
    expect(response.status).toBe(204);
    expect(response.body).toBeNull();
    expect(response.headers.get('x-many')).toBe('a, b');
  });

  it('reuses one connection for requests in sequence (keep-alive)', async () => {
    const ports = new Set<number>();
    answer = (req, res) => {
      ports.add(req.socket.remotePort ?? 0);
      res.end('x');
    };
    const fetch = transport().fetch;
    for (let i = 0; i < 3; i++) await (await fetch(`${base}/again`)).text();
    expect(seen).toHaveLength(3);
    expect(ports.size).toBe(1);
  });

  it('closes a connection left idle past the idle time, and never cuts a slower request in progress', async () => {
    const ports: number[] = [];
    answer = (req, res) => {
      ports.push(req.socket.remotePort ?? 0);
      setTimeout(() => res.end('late'), 150); // longer than the idle time
    };
    const fetch = transport(50).fetch;
    expect(await (await fetch(`${base}/slow`)).text()).toBe('late');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await (await fetch(`${base}/slow`)).text()).toBe('late');
    expect(ports).toHaveLength(2);
    expect(ports[1]).not.toBe(ports[0]); // a new connection: the idle one was closed
  });

  it('rejects with an AbortError when the signal fires before the answer, and with the cause when the server is gone', async () => {
    answer = () => {}; // never answers
    const controller = new AbortController();
    const pending = transport().fetch(`${base}/slow`, { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(transport().fetch(`http://127.0.0.1:${port}/`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  describe('as the OpenAI SDK transport', () => {
    const client = (timeout = 2000) =>
      new OpenAI({ apiKey: 'sk-transport-test', baseURL: `${base}/v1`, maxRetries: 1, timeout, logLevel: 'off', fetch: transport().fetch });

    it('carries a call accept: path, bearer key, JSON body', async () => {
      answer = (_req, res) => res.end();
      await client().realtime.calls.accept('rtc_1', { type: 'realtime', model: 'gpt-realtime' });
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ method: 'POST', url: '/v1/realtime/calls/rtc_1/accept' });
      expect(seen[0].headers.authorization).toBe('Bearer sk-transport-test');
      expect(JSON.parse(seen[0].body)).toEqual({ type: 'realtime', model: 'gpt-realtime' });
    });

    it('keeps the SDK errors: 404 is NotFoundError; a 500 is retried once, then InternalServerError', async () => {
      answer = (_req, res) => {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"no such call"}}');
      };
      await expect(client().realtime.calls.accept('rtc_2', { type: 'realtime' })).rejects.toBeInstanceOf(NotFoundError);
      seen.length = 0;
      answer = (_req, res) => {
        res.writeHead(500, { 'content-type': 'application/json', 'retry-after-ms': '1' });
        res.end('{"error":{"message":"boom"}}');
      };
      await expect(client().realtime.calls.hangup('rtc_3')).rejects.toBeInstanceOf(InternalServerError);
      expect(seen).toHaveLength(2);
    });

    it('times out through the SDK (APIConnectionTimeoutError), and reports a refused connection as APIConnectionError', async () => {
      answer = () => {}; // never answers
      await expect(client(50).realtime.calls.hangup('rtc_4', { maxRetries: 0 })).rejects.toBeInstanceOf(APIConnectionTimeoutError);

      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((resolve) => closed.close(resolve));
      const gone = new OpenAI({ apiKey: 'sk-transport-test', baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0, fetch: transport().fetch });
      await expect(gone.realtime.calls.hangup('rtc_5')).rejects.toBeInstanceOf(APIConnectionError);
    });
  });
});
