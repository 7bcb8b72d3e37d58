import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { CallEndReasons } from './call-end-reasons.js';
import { callControlConfig } from './calls.config.js';
import { SidebandConnector, SidebandHandshakeError } from './sideband/sideband-connector.js';
import { SidebandSession } from './sideband/sideband-session.js';
import { SidebandWireAudit } from './sideband/sideband-wire-audit.js';
import type { ConfigType } from '#config';
import { EventBus, type CallContext, type CallEndReason, type RealtimeClientEvent } from '#events';
import { Clock, errorMessage } from '#resilience';

interface ActiveCall {
  acceptedAt: Date;
  /** The agent profile that answered, for the call's log lines. */
  profile?: string;
  /** The call as it was accepted (its SIP headers), for the end-reason resolvers. */
  context?: CallContext;
  session?: SidebandSession;
  /** Cancels a handshake still in progress when the process stops. */
  connecting: AbortController;
}

/**
 * The registry of calls this process is attached to, and the owner of their sideband sessions: it opens each
 * session after accept, publishes every server event on the bus, and releases everything when the socket closes.
 */
@Injectable()
export class CallSessions implements BeforeApplicationShutdown {
  private readonly logger = new Logger(CallSessions.name);
  private readonly calls = new Map<string, ActiveCall>();
  /** Among replicas: whether this one still owns a call (see `checkOwnershipWith`). */
  private ownershipCheck?: (callId: string) => Promise<boolean>;

  constructor(
    private readonly connector: SidebandConnector,
    private readonly bus: EventBus,
    private readonly endReasons: CallEndReasons,
    private readonly audit: SidebandWireAudit,
    @Inject(callControlConfig.KEY) private readonly config: ConfigType<typeof callControlConfig>,
    private readonly clock: Clock,
  ) {}

  get activeCount(): number {
    return this.calls.size;
  }

  has(callId: string): boolean {
    return this.calls.has(callId);
  }

  /**
   * Attaches to an accepted call; resolves once the session is open or has definitively failed. `context`: the call
   * as accepted, which the end-reason resolvers read when its socket closes. `sideband.connected` is published
   * once the session can send (the tools library's conversation then sends the greeting).
   */
  async attach(callId: string, acceptedAt: Date, profile?: string, context?: CallContext, adopted = false): Promise<void> {
    const call: ActiveCall = { acceptedAt, profile, context, connecting: new AbortController() };
    this.calls.set(callId, call);
    let socket;
    let attempts;
    try {
      ({ socket, attempts } = await this.connector.connect(callId, call.connecting.signal));
    } catch (error) {
      const status = error instanceof SidebandHandshakeError ? error.status : undefined;
      if (status === 401 || status === 403) {
        // Not retried: the same key is refused every time. The accept went through with it, so the key is valid
        // but not for this call: it belongs to another OpenAI project than the SIP number and the webhook.
        this.audit.handshakeRefused(status);
        this.logger.error(
          `[${callId}] sideband refused our API key (HTTP ${status}): the call was accepted, but OPENAI_API_KEY must ` +
            'belong to the OpenAI project that owns the SIP number and the webhook; the call goes on unwatched',
        );
      } else if (adopted && status === 404) {
        // Taken over from a lost replica: the call ended while nobody was attached.
        this.logger.log(`[${callId}] the call ended before its sideband could be reopened here`);
        this.end(callId, 'ended_unobserved');
        return;
      } else {
        this.logger.error(`[${callId}] sideband never opened: ${errorMessage(error)}`);
      }
      this.end(callId, 'handshake_failed');
      return;
    }
    if (call.connecting.signal.aborted) {
      socket.terminate();
      // Detached meanwhile (handed over or lost): the call goes on elsewhere. Else the process is stopping.
      if (this.calls.get(callId) === call) this.end(callId, 'shutdown');
      return;
    }
    call.session = new SidebandSession(callId, socket, {
      pingIntervalMs: this.config.pingIntervalMs,
      sessionCapMs: this.config.sessionCapMs,
      logger: this.logger,
      clock: this.clock,
      onEvent: (event) => {
        this.audit.inspect(callId, event);
        this.bus.emit('realtime.event', { callId, event });
      },
      onIgnoredFrame: (kind, size) => this.audit.ignoredFrame(callId, kind, size),
      onClose: (reason, closeCode) => void this.closed(callId, call, reason, closeCode),
    });
    this.logger.log(`[${callId}] sideband ${adopted ? 'reopened (the call was taken over)' : 'attached'}`);
    this.bus.emit('sideband.connected', { callId, attempts });
  }

  /** Sends a client event on a call's sideband; false when the call is not (or no longer) attached. */
  send(callId: string, event: RealtimeClientEvent): boolean {
    return this.calls.get(callId)?.session?.send(event) ?? false;
  }

  /**
   * Reports the call's coming close with `reason` (`transferred`: its Twilio leg is being ended because a human
   * joined), or takes that back with `undefined` when ending it failed. False when the call is not attached here.
   */
  expectEnd(callId: string, reason: CallEndReason | undefined): boolean {
    const session = this.calls.get(callId)?.session;
    if (!session) return false;
    session.expectEnd(reason);
    return true;
  }

  /** The calls this process holds now. */
  callIds(): string[] {
    return [...this.calls.keys()];
  }

  /**
   * Lets go of a call that goes on elsewhere (handed over while draining, or taken over by another replica): its
   * sideband is closed, at most one being open at a time, without ending the call, and `call.detached` is published
   * so that its state here is dropped. False when the call is not held here.
   */
  async detach(callId: string, reason: 'handover' | 'lease_lost'): Promise<boolean> {
    const call = this.calls.get(callId);
    if (!call) return false;
    this.calls.delete(callId);
    call.connecting.abort();
    await call.session?.close('shutdown', 1001);
    this.logger.log(`[${callId}] let go of the call (${reason === 'handover' ? 'handed over' : 'another replica owns it now'})`);
    this.bus.emit('call.detached', { callId, reason });
    return true;
  }

  /**
   * Among replicas (CallOwnership sets it): asked when the far end closes a call's sideband, before the call is
   * ended. A replica whose lease ran out may learn it this way, when the next owner's sideband replaced its own;
   * the call then goes on there and is let go of here (`call.detached`, `lease_lost`) instead of being ended.
   */
  checkOwnershipWith(check: (callId: string) => Promise<boolean>): void {
    this.ownershipCheck = check;
  }

  /** Closes every session cleanly when the process stops (after readiness has already failed). */
  async beforeApplicationShutdown(): Promise<void> {
    const active = [...this.calls.values()];
    if (active.length > 0) this.logger.log(`closing ${active.length} active call session(s) for shutdown`);
    await Promise.all(
      active.map((call) => {
        call.connecting.abort();
        return call.session?.close('shutdown', 1001);
      }),
    );
  }

  /**
   * The socket closed. Its reason may be corrected by a library that knows the call's topology: OpenAI closing a
   * Twilio conference's agent leg after the human joined is a transfer, even when another replica saw the join.
   */
  private async closed(callId: string, call: ActiveCall, reason: CallEndReason, closeCode: number): Promise<void> {
    // A session this process let go of (detach) closes without ending the call.
    if (this.calls.get(callId) !== call) return;
    if (this.ownershipCheck && !(await this.ownershipCheck(callId).catch(() => true))) {
      if (this.calls.get(callId) !== call) return;
      this.calls.delete(callId);
      this.logger.warn(`[${callId}] sideband closed (${closeCode}) by the next owner: another replica took the call over`);
      this.bus.emit('call.detached', { callId, reason: 'lease_lost' });
      return;
    }
    const resolved = await this.endReasons.resolve({ callId, reason, context: call.context });
    if (this.calls.get(callId) === call) this.end(callId, resolved, closeCode);
  }

  private end(callId: string, reason: CallEndReason, closeCode?: number): void {
    const call = this.calls.get(callId);
    if (!call) return;
    this.calls.delete(callId);
    const details = [closeCode ? `close ${closeCode}` : '', call.profile ? `profile ${call.profile}` : ''].filter(Boolean);
    this.logger.log(`[${callId}] call ended: ${reason}${details.length > 0 ? ` (${details.join(', ')})` : ''}`);
    this.bus.emit('call.ended', { callId, reason, acceptedAt: call.acceptedAt, endedAt: new Date(), closeCode });
  }
}
