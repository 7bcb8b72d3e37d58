import { systemClock, type Clock } from './clock.js';

/** What `withTimeout` rejects with when the time is up. */
export class TimeoutError extends Error {
  override readonly name = 'TimeoutError';

  constructor(
    /** The limit that ran out (ms). */
    readonly timeoutMs: number,
    message = `timed out after ${timeoutMs} ms`,
  ) {
    super(message);
  }
}

export interface TimeoutOptions {
  /** The clock whose timer bounds the wait (default: the system clock). */
  clock?: Clock;
}

export interface RejectingTimeoutOptions extends TimeoutOptions {
  /** The TimeoutError's message (default: "timed out after {ms} ms"). */
  message?: string;
}

/**
 * `promise`, or a TimeoutError once `ms` have passed without it settling. The work itself is not cancelled (pass it a
 * signal for that); a rejection it comes to later is swallowed. The timer never keeps the process alive and is
 * cleared as soon as the promise settles. A limit that is not finite (Infinity) sets no timer.
 */
export function withTimeout<T>(promise: PromiseLike<T>, ms: number, options: RejectingTimeoutOptions = {}): Promise<T> {
  return race(promise, ms, options.clock, (_resolve, reject) => reject(new TimeoutError(ms, options.message)));
}

/**
 * `promise`, or `fallback` once `ms` have passed without it settling: for waits whose end is an answer in itself
 * ("not flushed in time", "still open after 60 s"). A rejection of `promise` within the time still rejects.
 */
export function withTimeoutOr<T, F>(promise: PromiseLike<T>, ms: number, fallback: F, options: TimeoutOptions = {}): Promise<T | F> {
  return race<T | F>(promise, ms, options.clock, (resolve) => resolve(fallback));
}

function race<T>(
  promise: PromiseLike<T>,
  ms: number,
  clock: Clock = systemClock,
  onTimeout: (resolve: (value: T) => void, reject: (error: unknown) => void) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = Number.isFinite(ms) ? clock.setTimeout(() => onTimeout(resolve, reject), ms) : undefined;
    promise.then(
      (value) => {
        clock.clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clock.clearTimeout(timer);
        reject(error);
      },
    );
  });
}
