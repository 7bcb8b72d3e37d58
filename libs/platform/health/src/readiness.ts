import { Injectable } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';

/** The Terminus session an indicator reports through (`up`, `degraded`, `down`), keyed by its `key`. */
export type ReadinessSession = ReturnType<HealthIndicatorService['check']>;

/**
 * One part of `GET /health/ready`, contributed by the library that knows it (each in its own `*.health.ts`:
 * capacity by calls, delivery by notifications, the database by storage). Any provider of the application that
 * extends this class is collected; the health library knows none of them.
 */
export abstract class ReadinessIndicator {
  /** Its key in the readiness details (`storage`). */
  abstract readonly key: string;
  /** `down` fails readiness (the load balancer prefers another replica); `degraded` reports a problem, still 200. */
  abstract check(session: ReadinessSession): HealthIndicatorResult | Promise<HealthIndicatorResult>;
}

/**
 * Work in progress that a drain waits for before the process stops (the calls library's live calls). Any provider
 * that extends this class is collected.
 */
export abstract class DrainableWork {
  /** What one of them is, for the drain's log lines (`call`). */
  abstract readonly noun: string;
  /** How many are in progress now. */
  abstract get inProgress(): number;
  /** Hands the work in progress to another replica, when it can be (called once, as the drain starts). */
  handOver?(): Promise<void>;
}

/** The application's readiness indicators and drainable work, found once among its providers. */
@Injectable()
export class HealthContributions {
  private indicators?: ReadinessIndicator[];
  private work?: DrainableWork[];

  constructor(private readonly discovery: DiscoveryService) {}

  get readiness(): ReadinessIndicator[] {
    return (this.indicators ??= this.find(ReadinessIndicator));
  }

  get drainable(): DrainableWork[] {
    return (this.work ??= this.find(DrainableWork));
  }

  private find<T>(kind: abstract new (...args: never[]) => T): T[] {
    const instances = this.discovery.getProviders().map((wrapper) => wrapper.instance as unknown);
    return [...new Set(instances.filter((instance): instance is T => instance instanceof kind))];
  }
}
