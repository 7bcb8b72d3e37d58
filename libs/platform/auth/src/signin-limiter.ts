import { Inject, Injectable } from '@nestjs/common';
import { authConfig } from './auth.config.js';
import type { ConfigType } from '#config';
import { Clock } from '#resilience';

/** Clients whose failures are remembered at once; beyond, the oldest is forgotten (memory stays bounded). */
const MAX_CLIENTS = 10_000;

/**
 * Wrong sign-in tokens per client (its address as Express sees it, so behind a proxy set TRUST_PROXY): at most
 * SIGNIN_MAX_FAILURES in a sliding SIGNIN_WINDOW_SECONDS, after which the client is answered 429 until its oldest
 * failure leaves the window. Per replica: with N replicas a client gets at most N times the budget, still far too
 * few guesses for a token of 16 characters or more.
 */
@Injectable()
export class SigninLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly max: number;
  private readonly windowMs: number;

  constructor(
    @Inject(authConfig.KEY) config: ConfigType<typeof authConfig>,
    private readonly clock: Clock,
  ) {
    this.max = config.signinMaxFailures;
    this.windowMs = config.signinWindowMs;
  }

  /** Seconds until `client` may try again, or 0 when it may now. */
  retryAfterSeconds(client: string): number {
    const recent = this.recent(client);
    if (recent.length < this.max) return 0;
    return Math.max(1, Math.ceil((recent[0] + this.windowMs - this.clock.now()) / 1000));
  }

  recordFailure(client: string): void {
    const recent = this.recent(client);
    recent.push(this.clock.now());
    this.failures.delete(client);
    this.failures.set(client, recent);
    if (this.failures.size > MAX_CLIENTS) this.failures.delete(this.failures.keys().next().value!);
  }

  /** A right token does not clear the failures: a guesser that also knows the token gains nothing by it. */
  private recent(client: string): number[] {
    const since = this.clock.now() - this.windowMs;
    const kept = (this.failures.get(client) ?? []).filter((at) => at > since);
    if (kept.length === 0) this.failures.delete(client);
    else this.failures.set(client, kept);
    return kept;
  }
}
