import type { Logger } from '@nestjs/common';
import { backoffDelay, errorMessage, noJitter, systemClock, upwardJitter, type Clock } from '#resilience';
import type { NotificationOutbox, OutboxMessage } from '#storage';
import { codePointLength, SAFE_CONTENT_LIMIT } from './discord/discord-text.js';
import type { NotificationPayload, NotificationSink, RenderedMessage } from './notification.js';

export type Notification = OutboxMessage<NotificationPayload>;

export interface DestinationQueueOptions {
  sink: NotificationSink;
  outbox: NotificationOutbox;
  logger: Logger;
  maxBackoffMs: number;
  /** Called with each delivered notification (metrics, benchmarks). */
  onDelivered?: (message: Notification, at: number) => void;
  /** The clock of the waits (default: the system clock). */
  clock?: Clock;
  /** [0, 1), for the jitter (default: Math.random). */
  random?: () => number;
}

/** 5xx and network errors: the first retry after half a second, each next one twice as late, up to maxBackoffMs. */
const FIRST_BACKOFF_MS = 500;
/** Every retry comes up to a tenth later than asked, so that replicas (and destinations) drift apart... */
const SPREAD = upwardJitter(0.1);
/** ...and 50 ms beyond that: a 429's `retry_after` is met with room to spare, never cut close. */
const MARGIN_MS = 50;

const header = (callTag: string) => `**📞 call ${callTag}**`;

/**
 * One destination's FIFO: one request in flight, consecutive text notifications coalesced into one message, Discord's
 * rate limits honoured before sending (bucket empty) and after (429 `retry_after`, with jitter), exponential backoff
 * on 5xx and network errors. A message the destination refuses (400) is recorded as failed and the queue moves on;
 * a destination that is gone (401/404) is disabled and what is queued for it is recorded as failed.
 */
export class DestinationQueue {
  private readonly items: Notification[] = [];
  /** Ids in `items`: a message handed over twice (a replayed event, a restart) is queued once. */
  private readonly queued = new Set<number>();
  private running?: Promise<void>;
  /** The send under way, until its outcome is recorded. */
  private step?: Promise<void>;
  /** How many messages at the head of `items` the send under way carries. */
  private inFlight = 0;
  private notBefore = 0;
  /** 5xx and network failures in a row (a 429 neither counts nor resets them; a delivery resets them). */
  private failures = 0;
  /** After a 400 on a coalesced message, send one notification at a time to find the bad one. */
  private isolate = 0;
  private disabledReason?: string;
  private stopped = false;
  /** The call the last delivered message ended with: its header is not repeated while that call goes on. */
  private lastTag?: string;
  /** Sends that will be tried again, and how many of them Discord rate-limited (429): for metrics. */
  retries = 0;
  rateLimited = 0;

  private readonly clock: Clock;
  private readonly random: () => number;

  constructor(private readonly options: DestinationQueueOptions) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
  }

  get disabled(): string | undefined {
    return this.disabledReason;
  }

  get depth(): number {
    return this.items.length;
  }

  get label(): string {
    return this.options.sink.label;
  }

  push(messages: Notification[]): void {
    if (this.disabledReason) {
      void this.options.outbox.markFailed(messages.map((m) => m.id), `destination disabled: ${this.disabledReason}`).catch(() => {});
      return;
    }
    for (const message of messages) {
      if (this.queued.has(message.id)) continue;
      this.queued.add(message.id);
      this.items.push(message);
    }
    this.running ??= this.run().finally(() => (this.running = undefined));
  }

  /** Takes the call's queued messages out (not those of a send under way): another process sends them now. */
  drop(callId: string): void {
    const kept = this.items.slice(this.inFlight).filter((message) => {
      if (message.callId !== callId) return true;
      this.queued.delete(message.id);
      return false;
    });
    this.items.splice(this.inFlight, this.items.length - this.inFlight, ...kept);
  }

  /** Resolves when the queue is empty (or stopped/disabled). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  stop(): void {
    this.stopped = true;
  }

  /** Resolves once no send is under way (the last one's outcome recorded). */
  async quiet(): Promise<void> {
    await this.step;
  }

  private async run(): Promise<void> {
    while (this.items.length > 0 && !this.disabledReason && !this.stopped) {
      const wait = this.notBefore - this.clock.now();
      if (wait > 0) await this.clock.sleep(wait);
      if (this.stopped) return;
      // The send and the recording of its outcome: `quiet()` waits for it (a row handed over in between would be
      // sent again by whoever adopts it).
      let finish!: () => void;
      this.step = new Promise<void>((resolve) => (finish = resolve));
      try {
        const [batch, rendered] = this.nextBatch();
        this.inFlight = batch.length;
        const outcome = await this.options.sink.send(rendered);
        const ids = batch.map((m) => m.id);
        switch (outcome.kind) {
          case 'delivered': {
            this.take(batch.length);
            this.failures = 0;
            this.isolate = Math.max(0, this.isolate - batch.length);
            this.notBefore = this.clock.now() + outcome.waitMs;
            const at = this.clock.now();
            this.lastTag = batch[batch.length - 1].payload.callTag ?? this.lastTag;
            batch.forEach((m) => this.options.onDelivered?.(m, at));
            await this.settle(() => this.options.outbox.markDelivered(ids, new Date(at)));
            break;
          }
          case 'retry': {
            // 429 tells us how long; 5xx and network errors back off exponentially. Jitter keeps replicas apart.
            this.retries++;
            if (outcome.afterMs !== undefined) this.rateLimited++;
            const base =
              outcome.afterMs ??
              backoffDelay(++this.failures, { initialDelayMs: FIRST_BACKOFF_MS, maxDelayMs: this.options.maxBackoffMs, jitter: noJitter });
            this.notBefore = this.clock.now() + SPREAD(base, this.random()) + MARGIN_MS;
            this.options.logger.warn(`${this.label}: not delivered (${outcome.reason}), retrying in ${Math.round(this.notBefore - this.clock.now())} ms`);
            await this.settle(() => this.options.outbox.recordAttempt(ids, outcome.reason));
            break;
          }
          case 'poison':
            if (batch.length > 1) {
              this.isolate = batch.length;
              break;
            }
            this.options.logger.error(`${this.label}: a notification was refused (${outcome.reason}) and is recorded as failed`);
            this.take(1);
            this.isolate = Math.max(0, this.isolate - 1);
            await this.settle(() => this.options.outbox.markFailed(ids, outcome.reason));
            break;
          case 'dead': {
            this.disabledReason = outcome.reason;
            const queued = this.take(this.items.length).map((m) => m.id);
            this.options.logger.error(`${this.label} is gone (${outcome.reason}): disabled, ${queued.length} notification(s) recorded as failed`);
            await this.settle(() => this.options.outbox.markFailed(queued, `destination disabled: ${outcome.reason}`));
            break;
          }
        }
      } finally {
        this.inFlight = 0;
        this.step = undefined;
        finish();
      }
    }
  }

  private take(count: number): Notification[] {
    const taken = this.items.splice(0, count);
    for (const message of taken) this.queued.delete(message.id);
    return taken;
  }

  /** The head of the queue as one request: a file alone, or as many text notifications as fit one message. */
  private nextBatch(): [Notification[], RenderedMessage] {
    const first = this.items[0];
    if (first.payload.kind === 'file') {
      const tag = first.payload.callTag;
      const content = tag && tag !== this.lastTag ? `${header(tag)}\n${first.payload.text}` : first.payload.text;
      return [[first], { content, file: { name: first.payload.fileName, content: first.payload.fileContent } }];
    }
    const limit = this.isolate > 0 ? 1 : this.items.length;
    const batch: Notification[] = [];
    let content = '';
    let length = 0;
    let tag = this.lastTag;
    for (const message of this.items.slice(0, limit)) {
      if (message.payload.kind !== 'text') break;
      const tagChanged = message.payload.callTag !== undefined && message.payload.callTag !== tag;
      const piece = tagChanged ? `${header(message.payload.callTag!)}\n${message.payload.text}` : message.payload.text;
      const pieceLength = codePointLength(piece) + (content ? 1 : 0);
      if (batch.length > 0 && length + pieceLength > SAFE_CONTENT_LIMIT) break;
      content = content ? `${content}\n${piece}` : piece;
      length += pieceLength;
      tag = message.payload.callTag ?? tag;
      batch.push(message);
    }
    return [batch, { content }];
  }

  /** Outbox bookkeeping never stops delivery: at worst a message is sent again after a restart. */
  private async settle(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      this.options.logger.error(`${this.label}: recording a delivery outcome failed: ${errorMessage(error)}`);
    }
  }
}
