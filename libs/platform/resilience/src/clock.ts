declare const timerBrand: unique symbol;

/** A pending timer, as its Clock made it: only that Clock can clear it. */
export type Timer = { readonly [timerBrand]: true };

export interface TimerOptions {
  /**
   * Keep the process alive while the timer is pending (Node's own default). Off unless asked for: the timers here are
   * deadlines, backoffs and housekeeping, never a reason for the process to stay up.
   */
  ref?: boolean;
}

export interface SleepOptions extends TimerOptions {
  /** Ends the sleep early: it then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Time, as code that waits or measures should read it: injected (it is its own Nest provider token, provided by
 * ResilienceModule as SystemClock) so that specs drive time by hand (`ManualClock` in `#testing`) instead of sleeping.
 */
export abstract class Clock {
  /** Milliseconds since the epoch. */
  abstract now(): number;
  /** Calls `callback` once, `ms` from now. */
  abstract setTimeout(callback: () => void, ms: number, options?: TimerOptions): Timer;
  /** Cancels a pending timer (nothing happens for one that has fired, or none). */
  abstract clearTimeout(timer: Timer | undefined): void;

  /** Resolves `ms` from now; rejects with the signal's reason if it aborts first (or has already). */
  sleep(ms: number, options: SleepOptions = {}): Promise<void> {
    const { signal, ...timerOptions } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.clearTimeout(timer);
        reject(signal!.reason);
      };
      const timer = this.setTimeout(
        () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        ms,
        timerOptions,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** Node's timers take at most this (about 24.8 days); longer ones would fire after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The real clock: `Date.now()` and Node's timers (looked up at each call, so jest's fake timers apply to it too). */
export class SystemClock extends Clock {
  now(): number {
    return Date.now();
  }

  setTimeout(callback: () => void, ms: number, options: TimerOptions = {}): Timer {
    const timer = setTimeout(callback, Math.min(Math.max(0, ms), MAX_TIMER_MS));
    if (!options.ref) timer.unref?.();
    return timer as unknown as Timer;
  }

  clearTimeout(timer: Timer | undefined): void {
    if (timer !== undefined) clearTimeout(timer as unknown as NodeJS.Timeout);
  }
}

/** The system clock, for code built outside Nest's injector (a helper's default). */
export const systemClock: Clock = new SystemClock();
