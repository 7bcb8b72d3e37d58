import { backoffDelay, type BackoffPolicy } from './backoff.js';
import { systemClock, type Clock } from './clock.js';

export interface RetryEvent {
  /** The attempt that failed (1: the first). */
  attempt: number;
  error: unknown;
  /** How long until the next attempt (ms). */
  delayMs: number;
}

export interface RetryPolicy extends BackoffPolicy {
  /** Attempts in all, the first included. `Infinity` retries until it works, `shouldRetry` refuses or the signal aborts. */
  maxAttempts: number;
  /**
   * A budget from the first attempt (ms): a retry whose wait would end beyond it is not made, the last error is
   * thrown instead.
   */
  deadlineMs?: number;
  /** Whether this failure is worth another attempt (default: every one is). */
  shouldRetry?: (error: unknown, attempt: number) => boolean;
  /** Stops retrying: no attempt starts after it aborts, and a wait under way ends. An attempt under way runs on. */
  signal?: AbortSignal;
  /** Told of each retry before its wait (logs, metrics). */
  onRetry?: (event: RetryEvent) => void;
  /** The clock the waits and the deadline run on (default: the system clock). */
  clock?: Clock;
  /** [0, 1), for the jitter (default: Math.random). */
  random?: () => number;
}

/**
 * Calls `fn` (with the attempt number, from 1) until it resolves, waiting `backoffDelay` between attempts. When it
 * gives up — attempts spent, `shouldRetry` false, the deadline too close, the signal aborted — it throws the last
 * attempt's error as it was, or the signal's reason when no attempt was made at all.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, policy: RetryPolicy): Promise<T> {
  const { maxAttempts, deadlineMs, shouldRetry, signal, onRetry, clock = systemClock, random = Math.random } = policy;
  const deadline = deadlineMs === undefined ? Infinity : clock.now() + deadlineMs;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw signal.reason;
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= maxAttempts || signal?.aborted || (shouldRetry && !shouldRetry(error, attempt))) throw error;
      const delayMs = backoffDelay(attempt, policy, random);
      if (clock.now() + delayMs > deadline) throw error;
      onRetry?.({ attempt, error, delayMs });
      try {
        await clock.sleep(delayMs, { signal });
      } catch {
        throw error; // aborted while waiting: the failure is still the news
      }
    }
  }
}
