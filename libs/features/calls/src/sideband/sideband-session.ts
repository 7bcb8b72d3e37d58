import type { Logger } from '@nestjs/common';
import WebSocket from 'ws';
import type { CallEndReason, RealtimeClientEvent, RealtimeServerEvent } from '#events';
import { systemClock, type Clock, type Timer } from '#resilience';
import { gaEventName, isAudioDeltaFrame } from './realtime-event-names.js';
import type { IgnoredFrame } from './sideband-wire-audit.js';

export interface SidebandSessionOptions {
  pingIntervalMs: number;
  sessionCapMs: number;
  logger: Logger;
  onEvent: (event: RealtimeServerEvent) => void;
  /** A frame without a readable event (its size in bytes; never its content). */
  onIgnoredFrame: (kind: IgnoredFrame, size: number) => void;
  onClose: (reason: CallEndReason, closeCode: number) => void;
  /** The clock of the keepalive, the session cap and the close grace (default: the system clock). */
  clock?: Clock;
}

/** How long a close handshake may take before the socket is cut. */
const CLOSE_GRACE_MS = 2000;
/** Client event ids remembered, to tell whether an `error` event names one of ours. */
const SENT_IDS_KEPT = 256;

/**
 * One call's sideband WebSocket, from open to close. It turns frames into typed events, stamps client events,
 * keeps the socket honest with a ping/pong watchdog, and ends the session at the Realtime session cap. The close
 * is the end of the call: there is no goodbye event.
 */
export class SidebandSession {
  private endReason: CallEndReason | undefined;
  /** Why the far end is about to close the socket, when we caused it elsewhere (a completed warm transfer). */
  private expectedEndReason: CallEndReason | undefined;
  private awaitingPong = false;
  private sent = 0;
  /** The latest client event ids sent, oldest first. */
  private readonly sentIds = new Set<string>();
  private watchdog?: Timer;
  private readonly cap: Timer;
  private readonly clock: Clock;
  readonly closed: Promise<void>;

  constructor(
    readonly callId: string,
    private readonly socket: WebSocket,
    private readonly options: SidebandSessionOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.keepAlive();
    this.cap = this.clock.setTimeout(() => this.close('session_cap'), options.sessionCapMs);
    socket.on('message', (data, isBinary) => this.receive(data, isBinary));
    socket.on('pong', () => (this.awaitingPong = false));
    socket.on('error', (error) => {
      this.options.logger.warn(`[${callId}] sideband socket error: ${error.message}`);
      this.endReason ??= 'error';
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', (code) => {
        this.clock.clearTimeout(this.watchdog);
        this.watchdog = undefined;
        this.clock.clearTimeout(this.cap);
        this.options.onClose(this.endReason ?? this.expectedEndReason ?? 'remote_closed', code);
        resolve();
      }),
    );
    // The connector paused the socket on open so that no frame is emitted before these listeners exist.
    socket.resume();
  }

  get isOpen(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Sends a client event; returns false when the socket is no longer open (the call is ending). */
  send(event: RealtimeClientEvent): boolean {
    if (!this.isOpen) return false;
    const stamped = event.event_id ? event : { ...event, event_id: `evt_bridge_${this.callId}_${++this.sent}` };
    this.socket.send(JSON.stringify(stamped));
    this.sentIds.add(stamped.event_id as string);
    if (this.sentIds.size > SENT_IDS_KEPT) this.sentIds.delete(this.sentIds.values().next().value as string);
    return true;
  }

  /**
   * The far end is about to close the socket because of something we did elsewhere (the agent's Twilio leg was ended
   * after a warm transfer): report that close with `reason` instead of `remote_closed`. `undefined` takes it back.
   * A close of our own, or a socket failure, still reports its own reason.
   */
  expectEnd(reason: CallEndReason | undefined): void {
    this.expectedEndReason = reason;
  }

  /** A keepalive check every SIDEBAND_PING_INTERVAL_MS until the socket closes. */
  private keepAlive(): void {
    this.watchdog = this.clock.setTimeout(() => {
      if (this.watchdog === undefined) return;
      this.keepAlive();
      this.checkAlive();
    }, this.options.pingIntervalMs);
  }

  /** Ends the session from our side; `closed` resolves once the socket is closed (or cut after a grace period). */
  close(reason: CallEndReason, code = 1000): Promise<void> {
    this.endReason ??= reason;
    if (this.socket.readyState === WebSocket.OPEN || this.socket.readyState === WebSocket.CONNECTING) {
      this.socket.close(code);
      this.clock.setTimeout(() => this.socket.terminate(), CLOSE_GRACE_MS);
    }
    return this.closed;
  }

  private receive(data: WebSocket.RawData, isBinary: boolean): void {
    this.awaitingPong = false;
    if (isBinary) {
      this.options.onIgnoredFrame('binary', byteLength(data));
      return;
    }
    const frame = data.toString();
    if (isAudioDeltaFrame(frame)) return;
    let event: unknown;
    try {
      event = JSON.parse(frame);
    } catch {
      this.options.onIgnoredFrame('not_json', frame.length);
      return;
    }
    if (typeof event !== 'object' || event === null || typeof (event as { type?: unknown }).type !== 'string') {
      this.options.onIgnoredFrame('no_type', frame.length);
      return;
    }
    const typed = event as RealtimeServerEvent;
    typed.type = gaEventName(typed.type);
    if (typed.type === 'error') this.logServerError(typed);
    this.options.onEvent(typed);
  }

  private logServerError(event: RealtimeServerEvent): void {
    const error = (event.error ?? {}) as Record<string, unknown>;
    const field = (name: string) => (typeof error[name] === 'string' ? String(error[name]).slice(0, 300) : '-');
    // An error may name an event we never sent (or one sent too long ago to remember): say so, and go on.
    const eventId = error.event_id;
    const cause = typeof eventId !== 'string' ? '' : this.sentIds.has(eventId) ? '' : ' (not an event this call sent recently)';
    this.options.logger.warn(
      `[${this.callId}] realtime error type=${field('type')} code=${field('code')} ` +
        `event_id=${field('event_id')}${cause}: ${field('message')}`,
    );
  }

  private checkAlive(): void {
    if (this.awaitingPong) {
      this.options.logger.warn(`[${this.callId}] sideband missed its keepalive pong, closing`);
      this.endReason ??= 'error';
      this.socket.terminate();
      return;
    }
    this.awaitingPong = true;
    this.socket.ping();
  }
}

function byteLength(data: WebSocket.RawData): number {
  if (Array.isArray(data)) return data.reduce((total, chunk) => total + chunk.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}
