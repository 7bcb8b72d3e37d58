/** Something with at most one pending deadline: its time in ms, NaN when it has none. */
export interface HasDeadline {
  deadline: number;
}

/** Consumed slots beyond which the queue's arrays are compacted (when they are also most of it). */
const COMPACT_AFTER = 256;

/**
 * Deadlines in a FIFO queue with lazy deletion: scheduling is a push, and a deadline is cancelled or replaced by
 * changing the entry's own `deadline` field, which makes its queued slot stale (NaN never equals a queued time);
 * stale slots are skipped when the head reaches them. That makes every operation O(1) amortised, on one condition:
 * deadlines are scheduled in non-decreasing time order (e.g. every one is `now + a fixed wait` on a clock that does
 * not run backwards). One scheduled earlier than the last is not lost, but only comes due once those before it have.
 */
export class DeadlineQueue<T extends HasDeadline> {
  private readonly entries: T[] = [];
  private readonly times: number[] = [];
  private head = 0;

  /** Gives `entry` the deadline `at` (replacing any it had). */
  schedule(entry: T, at: number): void {
    entry.deadline = at;
    this.entries.push(entry);
    this.times.push(at);
  }

  /** Takes `entry`'s deadline away (nothing happens if it had none). */
  cancel(entry: T): void {
    entry.deadline = NaN;
  }

  /** Whether `entry` has a pending deadline. */
  isScheduled(entry: T): boolean {
    return !Number.isNaN(entry.deadline);
  }

  /** The earliest pending deadline (ms), or undefined when there is none. */
  get next(): number | undefined {
    const { entries, times } = this;
    while (this.head < entries.length && entries[this.head]!.deadline !== times[this.head]) this.head++;
    this.compact();
    return this.head < entries.length ? times[this.head] : undefined;
  }

  /**
   * The next entry whose deadline is at or before `now`, with its deadline taken away; undefined once none is due.
   * Call it until it returns undefined (that is when the queue tidies itself up).
   */
  takeDue(now: number): T | undefined {
    const { entries, times } = this;
    while (this.head < entries.length) {
      const entry = entries[this.head]!;
      const at = times[this.head]!;
      if (entry.deadline !== at) {
        this.head++;
        continue;
      }
      if (at > now) break;
      this.head++;
      entry.deadline = NaN;
      return entry;
    }
    this.compact();
    return undefined;
  }

  /** Forgets every queued slot (the entries' `deadline` fields are left as they are). */
  clear(): void {
    this.entries.length = 0;
    this.times.length = 0;
    this.head = 0;
  }

  /** Slots the queue holds on to: pending, stale and consumed ones not yet compacted away. For tests and diagnostics. */
  get slots(): number {
    return this.entries.length;
  }

  private compact(): void {
    const consumed = this.head;
    if (consumed === this.entries.length) {
      this.clear();
    } else if (consumed > COMPACT_AFTER && consumed * 2 > this.entries.length) {
      this.entries.splice(0, consumed);
      this.times.splice(0, consumed);
      this.head = 0;
    }
  }
}
