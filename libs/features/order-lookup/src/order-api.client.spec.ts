import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { OrderApiClient, OrderApiError } from './order-api.client.js';

/** A stand-in order API on a local port. */
let server: Server;
let baseUrl: string;
let answer: { status: number; body?: string; delayMs?: number };
let requests: Array<{ url: string; headers: IncomingHttpHeaders }>;
const pendingAnswers = new Set<NodeJS.Timeout>();

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    const { status, body, delayMs } = answer;
    const timer = setTimeout(() => {
      pendingAnswers.delete(timer);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(body ?? '');
    }, delayMs ?? 0);
    pendingAnswers.add(timer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});

afterAll(async () => {
  pendingAnswers.forEach(clearTimeout);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  requests = [];
  answer = { status: 200, body: '{}' };
});

const client = (token?: string) => new OrderApiClient({ baseUrl, token });
const signal = () => new AbortController().signal;

describe('OrderApiClient', () => {
  it('GETs /orders/{number} with the bearer token and reads the order', async () => {
    answer = {
      status: 200,
      body: JSON.stringify({ number: 'A17', status: 'shipped', carrier: 'DHL', estimated_delivery: '2026-01-19', items: [{}, {}, {}], email: 'x@y' }),
    };
    expect(await client('tok-1').findOrder('A17', signal())).toEqual({
      number: 'A17',
      status: 'shipped',
      carrier: 'DHL',
      estimatedDelivery: '2026-01-19',
      itemCount: 3,
    });
    expect(requests[0].url).toBe('/api/orders/A17');
    expect(requests[0].headers.authorization).toBe('Bearer tok-1');
  });

  it('sends no Authorization header without a token, and escapes the number', async () => {
    answer = { status: 200, body: '{"status":"processing"}' };
    expect(await client().findOrder('a/b', signal())).toEqual({ number: 'a/b', status: 'processing' });
    expect(requests[0].url).toBe('/api/orders/a%2Fb');
    expect(requests[0].headers.authorization).toBeUndefined();
  });

  it('answers undefined for a 404', async () => {
    answer = { status: 404, body: '{"error":"not found"}' };
    expect(await client().findOrder('1', signal())).toBeUndefined();
  });

  it.each([
    [{ status: 500, body: 'oops' }, /answered 500/],
    [{ status: 200, body: 'not json' }, /not JSON/],
    [{ status: 200, body: '{"number":"1"}' }, /without a status/],
    [{ status: 200, body: '[1]' }, /without a status/],
  ])('throws OrderApiError for %o', async (response, message) => {
    answer = response;
    await expect(client().findOrder('1', signal())).rejects.toThrow(message);
    await expect(client().findOrder('1', signal())).rejects.toBeInstanceOf(OrderApiError);
  });

  it('stops waiting when the signal aborts (the tool timed out)', async () => {
    answer = { status: 200, body: '{"status":"late"}', delayMs: 2000 };
    const controller = new AbortController();
    const pending = client().findOrder('1', controller.signal);
    setTimeout(() => controller.abort(new Error('timed out')), 50);
    await expect(pending).rejects.toThrow();
  });

  it('is not configured without ORDER_API_URL', async () => {
    const unconfigured = new OrderApiClient({ baseUrl: undefined, token: undefined });
    expect(unconfigured.configured).toBe(false);
    await expect(unconfigured.findOrder('1', signal())).rejects.toBeInstanceOf(OrderApiError);
  });
});
