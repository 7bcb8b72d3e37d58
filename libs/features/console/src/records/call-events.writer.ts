import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { OnBridgeEvent, type CallAdoptedEvent, type CallDtmfEvent, type CallTransferEvent, type RealtimeEventReceived, type RealtimeServerEvent } from '#events';
import { Clock } from '#resilience';
import { CallEvents, OrderedRetryQueue, type CallEventRecord } from '#storage';

const MAX_BATCH = 200;
const SHUTDOWN_FLUSH_MS = 5000;
/** An error's message as stored: OpenAI's words, cut short (it is shown, never logged). */
const MAX_ERROR_CHARS = 500;

/**
 * Stores what a call's timeline shows beyond its lines and tool runs (those have their own tables): key presses,
 * transfer steps and the errors OpenAI reported on the call. Like the call records, listeners only enqueue; one
 * writer stores in order and retries a failed batch (every write is idempotent by its event id).
 */
@Injectable()
export class CallEventsWriter implements OnApplicationShutdown {
  private readonly logger = new Logger(CallEventsWriter.name);
  private readonly queue = new OrderedRetryQueue<CallEventRecord>({
    what: 'call events',
    logger: this.logger,
    apply: (events) => this.events.append(events),
    take: (queue) => Math.min(queue.length, MAX_BATCH),
  });
  private sequence = 0;

  constructor(
    private readonly events: CallEvents,
    private readonly clock: Clock,
  ) {}

  @OnBridgeEvent('call.dtmf')
  onDtmf({ callId, key, action, receivedAt }: CallDtmfEvent): void {
    // Placed on the timeline when it reached us: OpenAI's `received_at` has whole seconds only (it is kept besides).
    const data = { key, receivedAt: receivedAt.toISOString(), ...(action !== undefined ? { action } : {}) };
    this.queue.push({ callId, eventId: this.nextId('dtmf'), kind: 'dtmf', at: new Date(this.clock.now()), data });
  }

  @OnBridgeEvent('call.transfer')
  onTransfer({ callId, attempt, status, detail, at }: CallTransferEvent): void {
    this.queue.push({ callId, eventId: `transfer-${attempt}-${status}`, kind: 'transfer', at, data: { attempt, status, ...(detail !== undefined ? { detail } : {}) } });
  }

  /** Taken over from another replica: a mark on the timeline (lines said while nobody held the call are missing). */
  @OnBridgeEvent('call.adopted')
  onAdopted({ callId, cause }: CallAdoptedEvent): void {
    this.queue.push({ callId, eventId: this.nextId('owner'), kind: 'owner', at: new Date(this.clock.now()), data: { cause } });
  }

  @OnBridgeEvent('realtime.event')
  onRealtime({ callId, event }: RealtimeEventReceived): void {
    if (event.type !== 'error') return;
    const eventId = typeof event.event_id === 'string' ? `error-${event.event_id}` : this.nextId('error');
    this.queue.push({ callId, eventId, kind: 'error', at: new Date(this.clock.now()), data: { message: realtimeErrorMessage(event) } });
  }

  flush(): Promise<void> {
    return this.queue.flush();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.queue.flushWithin(SHUTDOWN_FLUSH_MS);
  }

  /** Unique per process and call (event ids are unique per call in storage). */
  private nextId(kind: string): string {
    return `${kind}-${this.clock.now().toString(36)}-${(this.sequence++).toString(36)}`;
  }
}

/** What an OpenAI `error` event says, cut short. */
export function realtimeErrorMessage(event: RealtimeServerEvent): string {
  const error = event.error as { message?: unknown; code?: unknown } | undefined;
  const message = typeof error?.message === 'string' ? error.message : typeof error?.code === 'string' ? error.code : 'error';
  return message.slice(0, MAX_ERROR_CHARS);
}
