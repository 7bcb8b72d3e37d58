import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import {
  OnBridgeEvent,
  type CallAcceptedEvent,
  type CallEndedEvent,
  type CallRejectedEvent,
  type CallContext,
  type TranscriptLine,
} from '#events';
import { CallRecordsRepository, OrderedRetryQueue, WriteBehind, type CallEnd, type CallRecordWrite, type NewCallRecord } from '#storage';

/** The most writes stored in one transaction. */
const MAX_BATCH = 200;

/** How long shutdown waits for the queue to reach the database. */
const SHUTDOWN_FLUSH_MS = 5000;

/**
 * Writes call records and transcript lines without ever holding up the call: listeners only enqueue, one writer
 * drains the queue in order, what waits (up to MAX_BATCH writes of many calls) in one transaction, with adjacent line
 * writes as one insert; a failed batch is retried with backoff instead of dropped — every write is idempotent, so a
 * retry after an ambiguous failure is harmless.
 */
@Injectable()
export class CallRecordWriter extends WriteBehind implements OnApplicationShutdown {
  private readonly logger = new Logger(CallRecordWriter.name);
  private readonly queue = new OrderedRetryQueue<CallRecordWrite>({
    what: 'call records',
    logger: this.logger,
    apply: (writes) => this.records.write(mergeLines(writes)),
    take: (queue) => Math.min(queue.length, MAX_BATCH),
  });

  constructor(private readonly records: CallRecordsRepository) {
    super();
  }

  /** Writes waiting for the database (0 when everything is stored). */
  get backlog(): number {
    return this.queue.backlog;
  }

  @OnBridgeEvent('call.accepted')
  onAccepted(event: CallAcceptedEvent): void {
    this.enqueue({ kind: 'create', record: acceptedRecord(event) });
  }

  @OnBridgeEvent('call.rejected')
  onRejected(event: CallRejectedEvent): void {
    this.enqueue({ kind: 'create', record: rejectedRecord(event, new Date()) });
  }

  @OnBridgeEvent('transcript.line')
  onLine(line: TranscriptLine): void {
    this.enqueue({ kind: 'lines', lines: [line] });
  }

  @OnBridgeEvent('call.ended')
  onEnded(event: CallEndedEvent): void {
    this.enqueue({ kind: 'end', callId: event.callId, end: callEndOf(event) });
  }

  /** Resolves once everything enqueued so far is stored. */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.flushWithin(SHUTDOWN_FLUSH_MS);
  }

  private enqueue(write: CallRecordWrite): void {
    this.queue.push(write);
  }
}

/** The writes with each run of adjacent line writes as one (one insert for the lines of many calls). */
function mergeLines(writes: CallRecordWrite[]): CallRecordWrite[] {
  const merged: CallRecordWrite[] = [];
  for (const write of writes) {
    const last = merged[merged.length - 1];
    if (write.kind === 'lines' && last?.kind === 'lines') last.lines.push(...write.lines);
    else merged.push(write.kind === 'lines' ? { kind: 'lines', lines: [...write.lines] } : write);
  }
  return merged;
}

/** The record `call.accepted` opens. */
export function acceptedRecord({ context, acceptedAt, profile, metadata }: CallAcceptedEvent): NewCallRecord {
  return { ...recordOf(context), profile, acceptedAt, status: 'active', metadata: metadata ?? null };
}

/** The record of a rejected call: it ends as it begins, `at`. */
export function rejectedRecord({ context, reason, statusCode }: CallRejectedEvent, at: Date): NewCallRecord {
  return {
    ...recordOf(context),
    profile: null,
    acceptedAt: at,
    status: 'rejected',
    endedAt: at,
    endReason: reason,
    metadata: statusCode === undefined ? null : { sipStatus: statusCode },
  };
}

/** How `call.ended` closes a record. */
export function callEndOf({ reason, endedAt }: CallEndedEvent): CallEnd {
  return { status: reason === 'handshake_failed' ? 'failed' : 'ended', endedAt, endReason: reason };
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
