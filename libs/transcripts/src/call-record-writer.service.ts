import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import {
  OnBridgeEvent,
  type CallAcceptedEvent,
  type CallEndedEvent,
  type CallRejectedEvent,
  type CallContext,
  type TranscriptLine,
} from '#events';
import { CallRecordsRepository, OrderedRetryQueue, type NewCallRecord, type TranscriptLineRecord } from '#storage';

type Write =
  | { kind: 'create'; record: NewCallRecord }
  | { kind: 'lines'; lines: TranscriptLineRecord[] }
  | { kind: 'end'; callId: string; status: 'ended' | 'failed'; endedAt: Date; endReason: string };

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
  private readonly queue = new OrderedRetryQueue<Write>({
    what: 'call records',
    logger: this.logger,
    apply: (writes) => this.apply(writes),
    // Adjacent line writes (up to 500 lines) share one insert.
    take: (queue) => {
      if (queue[0].kind !== 'lines') return 1;
      let count = 0;
      while (count < queue.length && count < 500 && queue[count].kind === 'lines') count++;
      return count;
    },
  });

  constructor(private readonly records: CallRecordsRepository) {}

  /** Writes waiting for the database (0 when everything is stored). */
  get backlog(): number {
    return this.queue.backlog;
  }

  @OnBridgeEvent('call.accepted')
  onAccepted({ context, acceptedAt, profile, metadata }: CallAcceptedEvent): void {
    this.enqueue({
      kind: 'create',
      record: { ...recordOf(context), profile, acceptedAt, status: 'active', metadata: metadata ?? null },
    });
  }

  @OnBridgeEvent('call.rejected')
  onRejected({ context, reason, statusCode }: CallRejectedEvent): void {
    const now = new Date();
    this.enqueue({
      kind: 'create',
      record: {
        ...recordOf(context),
        profile: null,
        acceptedAt: now,
        status: 'rejected',
        endedAt: now,
        endReason: reason,
        metadata: statusCode === undefined ? null : { sipStatus: statusCode },
      },
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
  flush(): Promise<void> {
    return this.queue.flush();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.flushWithin(SHUTDOWN_FLUSH_MS);
  }

  private enqueue(write: Write): void {
    this.queue.push(write);
  }

  private apply(writes: Write[]): Promise<void> {
    const [write] = writes;
    switch (write.kind) {
      case 'create':
        return this.records.createCall(write.record);
      case 'lines':
        return this.records.appendLines(writes.flatMap((w) => (w.kind === 'lines' ? w.lines : [])));
      case 'end':
        return this.records.endCall(write.callId, { status: write.status, endedAt: write.endedAt, endReason: write.endReason });
    }
  }
}

function recordOf(context: CallContext): Omit<NewCallRecord, 'profile' | 'acceptedAt' | 'metadata'> {
  return {
    callId: context.callId,
    callerNumber: context.callerNumber ?? null,
    dialledNumber: context.dialledNumber ?? null,
    forwardedFrom: context.forwardedFrom ?? null,
    fromUri: context.fromUri ?? null,
    sipCallId: context.sipCallId ?? null,
    twilioCallSid: context.twilioCallSid ?? null,
    conferenceName: context.conferenceName ?? null,
  };
}
