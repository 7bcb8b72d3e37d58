import { Clock, type Timer } from '#resilience';

interface Pending {
  due: number;
  /** Order of creation: timers due at the same moment fire in the order they were set. */
  order: number;
  callback: () => void;
}

/** Node's own setImmediate, kept before any spec installs jest's fake timers. */
const realSetImmediate = globalThis.setImmediate;

/** Lets every promise callback that is ready run (one turn of the event loop; no time passes). */
export function settle(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(resolve));
}

/**
 * A clock that moves only when a spec moves it: `advance(ms)` fires the timers that fall due, in order, each at its
 * own time. Nothing ever fires by itself, so a spec that uses it never sleeps and never races real time.
 */
export class ManualClock extends Clock {
  private time: number;
  private order = 0;
  private readonly timers = new Map<number, Pending>();
  private readonly waiters: Array<{ count: number; resolve: () => void }> = [];

  /** Starts at `start` (epoch ms; default 2026-01-01T00:00:00Z). */
  constructor(start: number | Date = Date.UTC(2026, 0, 1)) {
    super();
    this.time = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): Timer {
    const id = ++this.order;
    this.timers.set(id, { due: this.time + Math.max(0, Number.isFinite(ms) ? ms : 0), order: id, callback });
    for (const waiter of [...this.waiters]) {
      if (this.timers.size >= waiter.count) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
    return id as unknown as Timer;
  }

  clearTimeout(timer: Timer | undefined): void {
    if (timer !== undefined) this.timers.delete(timer as unknown as number);
  }

  /** Timers set and not yet fired or cleared. */
  get pending(): number {
    return this.timers.size;
  }

  /** How long until the next timer fires (undefined: none is pending). */
  get nextIn(): number | undefined {
    const next = this.next();
    return next && next[1].due - this.time;
  }

  /**
   * Moves time `ms` forward, firing on the way every timer that falls due (those the callbacks set too), each with
   * the clock at its due time. Synchronous: promise callbacks a timer releases run after it (see `advanceAsync`).
   */
  advance(ms: number): void {
    const target = this.time + ms;
    for (let next = this.next(target); next; next = this.next(target)) this.fire(next);
    this.time = Math.max(this.time, target);
  }

  /**
   * `advance`, letting promise callbacks run after each timer — what a retry's next attempt, or its next wait, needs
   * before the clock moves on.
   */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.time + ms;
    await settle();
    for (let next = this.next(target); next; next = this.next(target)) {
      this.fire(next);
      await settle();
    }
    this.time = Math.max(this.time, target);
    await settle();
  }

  /** Fires pending timers one by one, whatever their time, until none is left; fails beyond `limit` of them. */
  async runAll(limit = 1000): Promise<void> {
    await settle();
    for (let fired = 0, next = this.next(); next; next = this.next(), fired++) {
      if (fired >= limit) throw new Error(`ManualClock: still timers pending after ${limit} (a loop that never ends?)`);
      this.fire(next);
      await settle();
    }
  }

  /** Resolves once at least `count` timers are pending (code that sets its timer after some asynchronous steps). */
  whenPending(count = 1): Promise<void> {
    if (this.timers.size >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  private next(until = Infinity): [number, Pending] | undefined {
    let found: [number, Pending] | undefined;
    for (const entry of this.timers) {
      const [, timer] = entry;
      if (timer.due > until) continue;
      if (!found || timer.due < found[1].due || (timer.due === found[1].due && timer.order < found[1].order)) found = entry;
    }
    return found;
  }

  private fire([id, timer]: [number, Pending]): void {
    this.timers.delete(id);
    this.time = Math.max(this.time, timer.due);
    timer.callback();
  }
}
