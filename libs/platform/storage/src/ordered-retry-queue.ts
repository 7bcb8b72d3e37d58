import type { Logger } from '@nestjs/common';
import { noJitter, retry, systemClock, withTimeoutOr, type Clock } from '#resilience';
import { errorMessage } from './storage-health.js';

export interface OrderedRetryQueueOptions<T> {
  /** Stores items (in order); throws to have the same items retried. */
  apply: (items: T[]) => Promise<void>;
  /** How many leading items the next `apply` takes (default 1). Lets adjacent items of one kind share a write. */
  take?: (queue: readonly T[]) => number;
  logger: Logger;
  /** What the items are, for log lines ("call record writes"). */
  what: string;
  maxBackoffMs?: number;
  /** How long after the first push the write starts (ms), to gather more items into it. */
  lingerMs?: number;
  /** The clock of the linger, the backoff and `flushWithin` (default: the system clock). */
  clock?: Clock;
}

/** Short enough to be invisible (a line reaches storage and Discord 10 ms later), long enough to batch under load. */
const DEFAULT_LINGER_MS = 10;
/** The first retry of a failed write comes this soon; each further one waits twice as long, up to `maxBackoffMs`. */
const FIRST_BACKOFF_MS = 100;
const DEFAULT_MAX_BACKOFF_MS = 5000;

/**
 * Writes in order, in the background, without ever dropping: callers enqueue and return at once; a failed write is
 * retried with backoff (capped) until it succeeds, and nothing after it overtakes it. The writes themselves must be
 * idempotent, since a write that failed ambiguously is written again.
 */
export class OrderedRetryQueue<T> {
  private readonly queue: T[] = [];
  private readonly clock: Clock;
  private draining?: Promise<void>;
  /** Aborted when the queue gives up (shutdown ran out of time): the backoff under way ends, no write follows. */
  private readonly stopping = new AbortController();

  constructor(private readonly options: OrderedRetryQueueOptions<T>) {
    this.clock = options.clock ?? systemClock;
  }

  get backlog(): number {
    return this.queue.length;
  }

  push(...items: T[]): void {
    this.queue.push(...items);
    // Writing starts a moment after the first push, so that what is pushed meanwhile (lines of many calls) shares the
    // write: under load, a transaction per line costs more event-loop time than the line itself. The linger keeps the
    // process alive: what was pushed is written before it can exit.
    this.draining ??= this.clock
      .sleep(this.options.lingerMs ?? DEFAULT_LINGER_MS, { ref: true })
      .then(() => this.drain())
      .finally(() => (this.draining = undefined));
  }

  /** Resolves once everything enqueued so far is written. */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /**
   * `flush`, bounded, for shutdown: false when the time ran out with writes still waiting — the queue then logs what
   * is left and stops retrying (the process is going away).
   */
  async flushWithin(ms: number): Promise<boolean> {
    const flushed = await withTimeoutOr(this.flush().then(() => true), ms, false, { clock: this.clock });
    if (!flushed) {
      this.stopping.abort();
      this.options.logger.error(`shutting down with ${this.queue.length} write(s) of ${this.options.what} not stored`);
    }
    return flushed;
  }

  private async drain(): Promise<void> {
    const { signal } = this.stopping;
    while (this.queue.length > 0 && !signal.aborted) {
      // Each write retried until it is stored, its backoff starting over with the next: a write is never dropped, so
      // the attempts are unbounded (only shutdown stops them).
      await retry(
        async () => {
          const count = Math.max(1, Math.min(this.queue.length, this.options.take?.(this.queue) ?? 1));
          await this.options.apply(this.queue.slice(0, count));
          this.queue.splice(0, count);
        },
        {
          maxAttempts: Infinity,
          initialDelayMs: FIRST_BACKOFF_MS,
          maxDelayMs: this.options.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS,
          jitter: noJitter, // one writer per process: nobody to spread from
          signal,
          clock: this.clock,
          onRetry: ({ error }) =>
            this.options.logger.error(
              `storing ${this.options.what} failed (${this.queue.length} waiting), retrying: ${errorMessage(error)}`,
            ),
        },
      ).catch(() => {}); // only when stopped: what is left was logged by flushWithin
    }
  }
}
