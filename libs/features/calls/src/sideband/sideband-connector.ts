import { Inject, Injectable } from '@nestjs/common';
import WebSocket from 'ws';
import { callControlConfig, openaiConfig } from '../calls.config.js';
import type { ConfigType } from '#config';
import { Clock, errorMessage, noJitter, retry } from '#resilience';

/** The sideband handshake failed for good. `status` is the HTTP status of the last attempt, when there was one. */
export class SidebandHandshakeError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly attempts = 1,
  ) {
    super(message);
    this.name = 'SidebandHandshakeError';
  }
}

/**
 * Statuses worth another attempt: the socket has been seen to 404 for a moment right after accept; 409, another
 * sideband is open on the call (a replica that lost the call closes its own once it learns so, within a second).
 */
const RETRYABLE_STATUS = (status: number | undefined) =>
  status === undefined || status === 404 || status === 408 || status === 409 || status === 429 || status >= 500;

const statusOf = (error: unknown) => (error instanceof SidebandHandshakeError ? error.status : undefined);

/** `https://host/v1` → `wss://host/v1/realtime?call_id=…` (and `http:` → `ws:` for a local emulator). */
export function sidebandUrl(apiBaseUrl: string, callId: string): string {
  const url = new URL(apiBaseUrl);
  url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/realtime`;
  url.search = '';
  url.searchParams.set('call_id', callId);
  return url.toString();
}

/**
 * Opens a call's sideband socket with the API key, retrying transient handshake failures with short backoff.
 * The socket is handed over paused: the caller resumes it once it listens.
 */
@Injectable()
export class SidebandConnector {
  constructor(
    @Inject(openaiConfig.KEY) private readonly openai: ConfigType<typeof openaiConfig>,
    @Inject(callControlConfig.KEY) private readonly config: ConfigType<typeof callControlConfig>,
    private readonly clock: Clock,
  ) {}

  async connect(callId: string, signal?: AbortSignal): Promise<{ socket: WebSocket; attempts: number }> {
    const url = sidebandUrl(this.openai.baseUrl, callId);
    let attempted = false;
    try {
      return await retry(async (attempt) => {
        attempted = true;
        return { socket: await this.open(url), attempts: attempt };
      }, {
        maxAttempts: this.config.handshakeAttempts,
        // SIDEBAND_HANDSHAKE_BACKOFF_MS, doubling: the documented schedule, kept exact.
        initialDelayMs: this.config.handshakeBackoffMs,
        jitter: noJitter,
        shouldRetry: (error) => RETRYABLE_STATUS(statusOf(error)),
        signal,
        clock: this.clock,
      });
    } catch (error) {
      // The last attempt's failure; or the call ended (the signal) before any attempt was made.
      if (!attempted) throw new SidebandHandshakeError('sideband handshake aborted', undefined, this.config.handshakeAttempts);
      throw new SidebandHandshakeError(errorMessage(error), statusOf(error), this.config.handshakeAttempts);
    }
  }

  private open(url: string): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, {
        headers: { Authorization: `Bearer ${this.openai.apiKey}` },
        handshakeTimeout: 5000,
        perMessageDeflate: false,
      });
      let status: number | undefined;
      const fail = (message: string) => {
        socket.removeAllListeners('open');
        reject(new SidebandHandshakeError(message, status));
      };
      socket.once('unexpected-response', (_req, res) => {
        status = res.statusCode;
        res.resume();
        socket.terminate();
      });
      // After a failed handshake `ws` still reports an error and a close; both are expected here.
      socket.on('error', (error) =>
        fail(status ? `sideband handshake answered HTTP ${status}` : `sideband handshake failed: ${error.message}`),
      );
      socket.once('open', () => {
        // Frames that arrived with the handshake (session.created, the first events) would be emitted before
        // the session attaches its listener: hold them until it has.
        socket.pause();
        socket.removeAllListeners('error');
        socket.removeAllListeners('unexpected-response');
        resolve(socket);
      });
    });
  }
}
