/**
 * Spreads a delay: `random` is in [0, 1). Retries of many clients (calls accepted together, replicas) that failed
 * together would otherwise come back together, and fail together again.
 */
export type Jitter = (delayMs: number, random: number) => number;

/** Anywhere from 0 to the whole delay: the widest spread, but a retry may come at once. */
export const fullJitter: Jitter = (delayMs, random) => delayMs * random;

/**
 * Half the delay for sure, the other half at random. The default: a retry never comes right after the failure
 * (a sideband that 404s for a moment, a database that restarts, need the time), and retries that failed together
 * are still spread over half the delay. Full jitter spreads more but can retry at once; with a handful of clients
 * (one call's handshake, one replica's queue) that buys little and loses the wait.
 */
export const equalJitter: Jitter = (delayMs, random) => delayMs / 2 + (delayMs / 2) * random;

/** The delay as computed: for loops whose schedule is part of their contract. */
export const noJitter: Jitter = (delayMs) => delayMs;

/** The delay plus up to `fraction` of it: never earlier than asked (a rate limit's `retry_after`), a little later. */
export function upwardJitter(fraction: number): Jitter {
  return (delayMs, random) => delayMs * (1 + random * fraction);
}

export interface BackoffPolicy {
  /** The delay after the first failure (ms). */
  initialDelayMs: number;
  /** Each further failure multiplies the delay by this (default 2). */
  factor?: number;
  /** The longest delay, before jitter (default: no limit). */
  maxDelayMs?: number;
  /** How the delay is spread (default: equal jitter). */
  jitter?: Jitter;
}

/**
 * The wait after the `attempt`-th consecutive failure (1: the first): `initialDelayMs × factor^(attempt − 1)`, at most
 * `maxDelayMs`, then jittered with `random()`. For loops that schedule their own retries (a queue that must keep
 * its order); `retry()` uses it for a single call.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const { initialDelayMs, factor = 2, maxDelayMs = Infinity, jitter = equalJitter } = policy;
  const exponential = initialDelayMs > 0 ? initialDelayMs * factor ** Math.max(0, attempt - 1) : 0;
  const capped = Math.min(exponential, maxDelayMs);
  return Math.max(0, jitter(capped, random()));
}
