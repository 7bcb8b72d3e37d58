import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { WebSocketServer } from 'ws';
import { SidebandConnector, SidebandHandshakeError, sidebandUrl } from './sideband-connector.js';
import type { ConfigType } from '#config';
import type { callControlConfig, openaiConfig } from '../calls.config.js';
import { ManualClock } from '#testing';

describe('sidebandUrl', () => {
  it('turns the public https API base into a wss URL under the same path', () => {
    expect(sidebandUrl('https://api.openai.com/v1', 'rtc_479a275623b54bdb9b6fbae2f7cbd408')).toBe(
      'wss://api.openai.com/v1/realtime?call_id=rtc_479a275623b54bdb9b6fbae2f7cbd408',
    );
  });

  it('turns an http base (a local emulator) into ws and keeps the port', () => {
    expect(sidebandUrl('http://127.0.0.1:4010/v1', 'rtc_1')).toBe('ws://127.0.0.1:4010/v1/realtime?call_id=rtc_1');
  });

  it('tolerates trailing slashes on the base', () => {
    expect(sidebandUrl('https://api.openai.com/v1/', 'rtc_1')).toBe('wss://api.openai.com/v1/realtime?call_id=rtc_1');
    expect(sidebandUrl('https://api.openai.com/v1///', 'rtc_1')).toBe('wss://api.openai.com/v1/realtime?call_id=rtc_1');
  });

  it('works with a base that has no path', () => {
    expect(sidebandUrl('https://api.openai.com', 'rtc_1')).toBe('wss://api.openai.com/realtime?call_id=rtc_1');
    expect(sidebandUrl('http://localhost:8080/', 'rtc_1')).toBe('ws://localhost:8080/realtime?call_id=rtc_1');
  });

  it('keeps a deeper base path', () => {
    expect(sidebandUrl('https://proxy.example.com/openai/v1', 'rtc_1')).toBe(
      'wss://proxy.example.com/openai/v1/realtime?call_id=rtc_1',
    );
  });

  it('replaces any query string the base carries', () => {
    expect(sidebandUrl('https://api.openai.com/v1?call_id=other&x=1', 'rtc_1')).toBe(
      'wss://api.openai.com/v1/realtime?call_id=rtc_1',
    );
  });

  it('URL-encodes an odd call id so it cannot add parameters or change the path', () => {
    const callId = 'rtc_a b&model=x#frag/../é?';
    const url = new URL(sidebandUrl('https://api.openai.com/v1', callId));
    expect(url.pathname).toBe('/v1/realtime');
    expect(url.hash).toBe('');
    expect([...url.searchParams.keys()]).toEqual(['call_id']);
    expect(url.searchParams.get('call_id')).toBe(callId);
    expect(url.search.slice('?call_id='.length)).toMatch(/^[A-Za-z0-9_.*%+-]+$/);
  });
});

describe('SidebandConnector', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
    server = undefined;
  });

  /** A sideband that answers each handshake with the next status (101: opens), and the last one after them. */
  async function sideband(statuses: number[]) {
    const requests: Array<{ authorization?: string; callId: string | null }> = [];
    const sockets = new WebSocketServer({ noServer: true });
    server = createServer();
    server.on('upgrade', (request, socket, head) => {
      requests.push({ authorization: request.headers.authorization, callId: new URL(request.url!, 'http://x').searchParams.get('call_id') });
      const status = statuses.length > 1 ? statuses.shift()! : statuses[0];
      if (status === 101) sockets.handleUpgrade(request, socket, head, (ws) => ws.close());
      else socket.end(`HTTP/1.1 ${status} Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    return { baseUrl, requests };
  }

  function connector(baseUrl: string, clock: ManualClock, attempts = 5) {
    return new SidebandConnector(
      { baseUrl, apiKey: 'sk-test' } as ConfigType<typeof openaiConfig>,
      { handshakeAttempts: attempts, handshakeBackoffMs: 250 } as ConfigType<typeof callControlConfig>,
      clock,
    );
  }

  /** Lets each backoff of a connect run out as soon as it starts; returns the waits, in order. */
  async function runBackoffs(clock: ManualClock, until: Promise<unknown>): Promise<number[]> {
    const waits: number[] = [];
    let done = false;
    void until.then(
      () => (done = true),
      () => (done = true),
    );
    while (!done) {
      await Promise.race([clock.whenPending(), until.catch(() => {})]);
      if (clock.nextIn === undefined) continue;
      waits.push(clock.nextIn);
      clock.advance(clock.nextIn);
    }
    return waits;
  }

  it('retries a handshake that 404s (right after accept), doubling its wait, and says how many attempts it took', async () => {
    const { baseUrl, requests } = await sideband([404, 503, 101]);
    const clock = new ManualClock();
    const connecting = connector(baseUrl, clock).connect('rtc_retry');
    const waits = await runBackoffs(clock, connecting);
    const { socket, attempts } = await connecting;
    socket.terminate();
    expect(attempts).toBe(3);
    expect(waits).toEqual([250, 500]);
    expect(requests).toEqual(Array.from({ length: 3 }, () => ({ authorization: 'Bearer sk-test', callId: 'rtc_retry' })));
  });

  it('does not retry a refusal (401), and reports its status', async () => {
    const { baseUrl, requests } = await sideband([401]);
    const clock = new ManualClock();
    const error = await connector(baseUrl, clock).connect('rtc_refused').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SidebandHandshakeError);
    expect(error).toMatchObject({ message: 'sideband handshake answered HTTP 401', status: 401, attempts: 5 });
    expect(requests).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });

  it('gives up after SIDEBAND_HANDSHAKE_ATTEMPTS with the last status', async () => {
    const { baseUrl, requests } = await sideband([503]);
    const clock = new ManualClock();
    const connecting = connector(baseUrl, clock, 3).connect('rtc_down');
    const waits = await runBackoffs(clock, connecting);
    await expect(connecting).rejects.toMatchObject({ message: 'sideband handshake answered HTTP 503', status: 503, attempts: 3 });
    expect(waits).toEqual([250, 500]);
    expect(requests).toHaveLength(3);
  });

  it("stops waiting when the call ends, with the last attempt's failure", async () => {
    const { baseUrl, requests } = await sideband([404]);
    const clock = new ManualClock();
    const controller = new AbortController();
    const connecting = connector(baseUrl, clock).connect('rtc_gone', controller.signal);
    await clock.whenPending(); // the first backoff
    controller.abort();
    await expect(connecting).rejects.toMatchObject({ message: 'sideband handshake answered HTTP 404', status: 404 });
    expect(requests).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });

  it('makes no attempt for a call that has already ended', async () => {
    const { baseUrl, requests } = await sideband([101]);
    const error = await connector(baseUrl, new ManualClock()).connect('rtc_ended', AbortSignal.abort()).catch((e: unknown) => e);
    expect(error).toEqual(new SidebandHandshakeError('sideband handshake aborted'));
    expect(error).toMatchObject({ status: undefined, attempts: 5 });
    expect(requests).toEqual([]);
  });
});
