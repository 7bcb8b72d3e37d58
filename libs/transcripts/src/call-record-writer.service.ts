import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import {
  OnBridgeEvent,
  type CallAcceptedEvent,
  type CallEndedEvent,
  type CallRejectedEvent,
  type CallContext,
  type TranscriptLine,
} from '#events';
import { CallRecordsRepository, type NewCallRecord, type TranscriptLineRecord } from '#storage';

type Write =
  | { kind: 'create'; record: NewCallRecord }
  | { kind: 'lines'; lines: TranscriptLineRecord[] }
  | { kind: 'end'; callId: string; status: 'ended' | 'failed'; endedAt: Date; endReason: string };

const MAX_BACKOFF_MS = 5000;
/** How long shutdown waits for the queue to reach the database. */
const SHUTDOWN_FLUSH_MS = 5000;

/**
 * Writes call records and transcript lines without ever holding up the call: listeners only enqueue, one writer
 * drains the queue in order (adjacent line writes become one insert), and a failed write is retried with backoff
 * instead of dropped — every write is idempotent, so a retry after an ambiguous failure is harmless.
 */
@Injectable()
export class CallRecordWriter implements OnApplicationShutdown {
  private readonly logger = new Logger(CallRecordWriter.name);
  private readonly queue: Write[] = [];
  private draining?: Promise<void>;

  constructor(private readonly records: CallRecordsRepository) {}

  /** Writes waiting for the database (0 when everything is stored). */
  get backlog(): number {
    return this.queue.length;
  }

  @OnBridgeEvent('call.accepted')
  onAccepted({ callId, context, acceptedAt, profile }: CallAcceptedEvent): void {
    this.enqueue({ kind: 'create', record: { ...recordOf(context), profile, acceptedAt, status: 'active' } });
  }

  @OnBridgeEvent('call.rejected')
  onRejected({ context, reason }: CallRejectedEvent): void {
    const now = new Date();
    this.enqueue({
      kind: 'create',
      record: { ...recordOf(context), profile: null, acceptedAt: now, status: 'rejected', endedAt: now, endReason: reason },
    });
  }

  @OnBridgeEvent('transcript.line')
  onLine(line: TranscriptLine): void {
    this.enqueue({ kind: 'lines', lines: [line] });
  }

  @OnBridgeEvent('call.ended')
  onEnded({ callId, reason, endedAt }: CallEndedEvent): void {
    this.enqueue({ kind: 'end', callId, status: reason === 'handshake_failed' ? 'failed' : 'ended', endedAt, endReason: reason });
  }

  /** Resolves once everything enqueued so far is stored. */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  async onApplicationShutdown(): Promise<void> {
    const timeout = sleep(SHUTDOWN_FLUSH_MS).then(() => 'timeout' as const);
    if ((await Promise.race([this.flush(), timeout])) === 'timeout') {
      this.logger.error(`shutting down with ${this.queue.length} call record write(s) not stored`);
    }
  }

  private enqueue(write: Write): void {
    this.queue.push(write);
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  private async drain(): Promise<void> {
    let backoff = 100;
    while (this.queue.length > 0) {
      const [write, taken] = this.next();
      try {
        await this.apply(write);
        this.queue.splice(0, taken);
        backoff = 100;
      } catch (error) {
        this.logger.error(`storing a call record failed (${this.queue.length} waiting), retrying: ${(error as Error).message}`);
        await sleep(backoff);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  /** The next write, with adjacent line writes merged into one. */
  private next(): [Write, number] {
    const first = this.queue[0];
    if (first.kind !== 'lines') return [first, 1];
    const lines: TranscriptLineRecord[] = [];
    let taken = 0;
    for (const write of this.queue) {
      if (write.kind !== 'lines' || lines.length >= 500) break;
      lines.push(...write.lines);
      taken++;
    }
    return [{ kind: 'lines', lines }, taken];
  }

  private apply(write: Write): Promise<void> {
    switch (write.kind) {
      case 'create':
        return this.records.createCall(write.record);
      case 'lines':
        return this.records.appendLines(write.lines);
      case 'end':
        return this.records.endCall(write.callId, { status: write.status, endedAt: write.endedAt, endReason: write.endReason });
    }
  }
}

function recordOf(context: CallContext): Omit<NewCallRecord, 'profile' | 'acceptedAt'> {
  return {
    callId: context.callId,
    callerNumber: context.callerNumber ?? null,
    dialledNumber: context.dialledNumber ?? null,
    forwardedFrom: context.forwardedFrom ?? null,
    fromUri: context.fromUri ?? null,
    sipCallId: context.sipCallId ?? null,
    twilioCallSid: context.twilioCallSid ?? null,
    conferenceName: context.conferenceName ?? null,
    metadata: null,
  };
}
