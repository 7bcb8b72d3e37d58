import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@nestjs/common';

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
}

/** Short enough to be invisible (a line reaches storage and Discord 10 ms later), long enough to batch under load. */
const DEFAULT_LINGER_MS = 10;

/**
 * Writes in order, in the background, without ever dropping: callers enqueue and return at once; a failed write is
 * retried with backoff (capped) until it succeeds, and nothing after it overtakes it. The writes themselves must be
 * idempotent, since a write that failed ambiguously is written again.
 */
export class OrderedRetryQueue<T> {
  private readonly queue: T[] = [];
  private draining?: Promise<void>;
  private stopped = false;

  constructor(private readonly options: OrderedRetryQueueOptions<T>) {}

  get backlog(): number {
    return this.queue.length;
  }

  push(...items: T[]): void {
    this.queue.push(...items);
    // Writing starts a moment after the first push, so that what is pushed meanwhile (lines of many calls) shares the
    // write: under load, a transaction per line costs more event-loop time than the line itself.
    this.draining ??= sleep(this.options.lingerMs ?? DEFAULT_LINGER_MS)
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
    const timeout = sleep(ms, false, { ref: false });
    const flushed = await Promise.race([this.flush().then(() => true), timeout]);
    if (!flushed) {
      this.stopped = true;
      this.options.logger.error(`shutting down with ${this.queue.length} write(s) of ${this.options.what} not stored`);
    }
    return flushed;
  }

  private async drain(): Promise<void> {
    let backoff = 100;
    const maxBackoff = this.options.maxBackoffMs ?? 5000;
    while (this.queue.length > 0 && !this.stopped) {
      const count = Math.max(1, Math.min(this.queue.length, this.options.take?.(this.queue) ?? 1));
      try {
        await this.options.apply(this.queue.slice(0, count));
        this.queue.splice(0, count);
        backoff = 100;
      } catch (error) {
        this.options.logger.error(
          `storing ${this.options.what} failed (${this.queue.length} waiting), retrying: ${(error as Error).message}`,
        );
        await sleep(backoff, undefined, { ref: false });
        backoff = Math.min(backoff * 2, maxBackoff);
      }
    }
  }
}
