import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { CallSessions } from './call-sessions.service.js';
import { callControlConfig } from './calls.config.js';
import { CallsService } from './calls.service.js';
import type { ConfigType } from '#config';
import {
  EventBus,
  OnBridgeEvent,
  type CallAcceptedEvent,
  type CallAdoptedEvent,
  type CallDetachedEvent,
  type CallEndedEvent,
  type TranscriptLine,
} from '#events';
import { Clock, errorMessage, type Timer } from '#resilience';
import { CallLeases, CallRecordsRepository, ToolInvocations, WriteBehind, type TakenCall } from '#storage';

/** The most calls one poll takes over (a replica at MAX_CONCURRENT_CALLS takes none). */
const ADOPT_BATCH = 50;

/** What a lease keeps of `call.accepted` (JSON): all a next owner needs, the greeting aside. */
type StoredCall = Omit<CallAcceptedEvent, 'greeting' | 'acceptedAt'> & { acceptedAt: string };

/**
 * Which replica holds each live call, on PostgreSQL: the owner of a call holds a lease on it (CallLeases) and its
 * sideband, and nobody else does. The owner renews its leases every second or so; a replica that learns it lost a
 * lease (another replica took the call over) lets go of the call at once. Every replica takes over calls whose lease
 * ran out (their owner died) or was released (their owner drained), and reopens their sidebands: `call.adopted`
 * carries what was accepted and what is already stored, so that nothing is said, released or run twice.
 *
 * On SQLite one process holds every call and none of this runs.
 */
@Injectable()
export class CallOwnership implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(CallOwnership.name);
  /** This process among the replicas (the pod's name first, for the logs). */
  readonly owner = `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
  private readonly owned = new Set<string>();
  private timer?: Timer;
  private ticking = false;
  private stopped = false;
  /** Draining (handOver ran): this replica takes no call over any more. */
  private draining = false;

  constructor(
    private readonly leases: CallLeases,
    private readonly sessions: CallSessions,
    private readonly calls: CallsService,
    private readonly records: CallRecordsRepository,
    private readonly toolRuns: ToolInvocations,
    private readonly bus: EventBus,
    private readonly clock: Clock,
    @Inject(callControlConfig.KEY) private readonly config: ConfigType<typeof callControlConfig>,
    private readonly discovery: DiscoveryService,
  ) {}

  /** How often leases are renewed and expired ones looked for: every second, or more often for short leases. */
  get tickMs(): number {
    return Math.min(1000, Math.floor(this.config.leaseMs / 3));
  }

  onApplicationBootstrap(): void {
    if (!this.leases.shared) return;
    this.sessions.checkOwnershipWith((callId) => this.stillOwned(callId));
    this.logger.log(`live calls are leased for ${this.config.leaseMs / 1000} s, renewed every ${this.tickMs} ms: they survive this replica`);
    this.schedule();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
  }

  @OnBridgeEvent('call.accepted')
  onAccepted(event: CallAcceptedEvent): void {
    if (!this.leases.shared) return;
    const { greeting: _, ...kept } = event;
    this.owned.add(event.callId);
    this.leases
      .acquire(event.callId, this.owner, this.config.leaseMs, JSON.stringify(kept))
      .catch((error: unknown) => this.logger.error(`[${event.callId}] leasing the call failed (it is not handed over if this replica is lost): ${errorMessage(error)}`));
  }

  @OnBridgeEvent('call.ended')
  onEnded({ callId }: CallEndedEvent): void {
    if (!this.owned.delete(callId)) return;
    this.leases.remove(callId).catch((error: unknown) => this.logger.warn(`[${callId}] removing the ended call's lease failed: ${errorMessage(error)}`));
  }

  @OnBridgeEvent('call.detached')
  onDetached({ callId }: CallDetachedEvent): void {
    this.owned.delete(callId);
  }

  /**
   * Draining: every call held here is handed over at once — its sideband closed here, then its lease released so
   * that another replica takes it on its next poll (at most one sideband is ever open on a call).
   */
  async handOver(): Promise<void> {
    this.draining = true;
    if (!this.leases.shared) return;
    const ids = this.sessions.callIds().filter((id) => this.owned.has(id));
    if (ids.length === 0) return;
    const started = this.clock.now();
    await Promise.all(ids.map((id) => this.sessions.detach(id, 'handover')));
    // Every line released here stored before the next owner reads them (it numbers its lines after them).
    await Promise.all(this.writers().map((writer) => writer.flush()));
    await this.leases.release(this.owner, ids);
    this.logger.log(`handed ${ids.length} live call(s) over to the other replicas in ${this.clock.now() - started} ms`);
  }

  private writers(): WriteBehind[] {
    const instances = this.discovery.getProviders().map((wrapper) => wrapper.instance as unknown);
    return [...new Set(instances.filter((instance): instance is WriteBehind => instance instanceof WriteBehind))];
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(() => void this.tick(), this.tickMs);
  }

  /** Renews what this replica holds, then takes over what nobody holds any more. One tick at a time. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.renew();
      await this.adopt();
    } finally {
      this.ticking = false;
      this.schedule();
    }
  }

  /** Whether this replica still holds a call's lease (renewing it); a database failure counts as yes. */
  private async stillOwned(callId: string): Promise<boolean> {
    if (!this.owned.has(callId)) return true;
    const lost = await this.leases.renew(this.owner, [callId], this.config.leaseMs);
    if (lost.length === 0) return true;
    this.owned.delete(callId);
    return false;
  }

  private async renew(): Promise<void> {
    const ids = [...this.owned];
    if (ids.length === 0) return;
    let lost: string[];
    try {
      lost = await this.leases.renew(this.owner, ids, this.config.leaseMs);
    } catch (error) {
      // Keep the calls: a replica that cannot reach the database cannot tell whether another one took them either.
      this.logger.warn(`renewing ${ids.length} call lease(s) failed: ${errorMessage(error)}`);
      return;
    }
    for (const callId of lost) {
      if (!this.owned.delete(callId)) continue;
      this.logger.warn(`[${callId}] another replica took the call over (this one's lease ran out): letting go of it`);
      await this.sessions.detach(callId, 'lease_lost');
    }
  }

  private async adopt(): Promise<void> {
    if (this.draining || this.stopped || this.calls.atCapacity) return;
    const max = this.calls.maxConcurrentCalls;
    const limit = max > 0 ? Math.min(ADOPT_BATCH, max - this.calls.activeCalls) : ADOPT_BATCH;
    if (limit <= 0) return;
    let taken: TakenCall[];
    try {
      taken = await this.leases.takeExpired(this.owner, this.config.leaseMs, limit);
    } catch (error) {
      this.logger.warn(`looking for calls to take over failed: ${errorMessage(error)}`);
      return;
    }
    await Promise.all(taken.map((call) => this.adoptOne(call)));
  }

  /** Takes one call over: what is stored about it, then its sideband reopened here. */
  private async adoptOne({ callId, cause, call }: TakenCall): Promise<void> {
    try {
      const stored = JSON.parse(call) as StoredCall;
      const record = await this.records.getCall(callId);
      if (record && record.status !== 'active') {
        // Its end was stored after all (the owner wrote it, then died before removing the lease).
        await this.leases.remove(callId);
        return;
      }
      const [lines, runs] = await Promise.all([this.records.transcript(callId), this.toolRuns.forCall(callId)]);
      const priorLines: TranscriptLine[] = lines.map((line) => ({
        callId,
        seq: line.seq,
        speaker: line.speaker,
        text: line.text,
        itemId: line.itemId ?? '',
        interrupted: line.interrupted,
        placeholder: line.placeholder,
        at: line.at,
      }));
      const acceptedAt = new Date(stored.acceptedAt);
      const adopted: CallAdoptedEvent = {
        ...stored,
        acceptedAt,
        priorLines,
        priorToolCalls: runs.map((run) => ({ toolCallId: run.toolCallId, name: run.name, finished: run.status !== 'running' })),
        cause,
      };
      this.owned.add(callId);
      this.logger.log(
        `[${callId}] taking the call over (${cause === 'handover' ? 'handed over by a draining replica' : 'its replica stopped renewing it'}): ` +
          `${priorLines.length} line(s) and ${runs.length} tool run(s) so far`,
      );
      this.bus.emit('call.adopted', adopted);
      await this.sessions.attach(callId, acceptedAt, stored.profile, stored.context, true);
    } catch (error) {
      this.owned.delete(callId);
      this.logger.error(`[${callId}] taking the call over failed (its lease runs out again for another try): ${errorMessage(error)}`);
    }
  }
}
