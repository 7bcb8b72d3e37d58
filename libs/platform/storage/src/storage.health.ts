import { Injectable } from '@nestjs/common';
import { IdempotencyStore } from './idempotency.store.js';
import { StorageHealth, errorMessage } from './storage-health.js';
import { ReadinessIndicator, type ReadinessSession } from '#health';
import { Clock, withTimeout } from '#resilience';

const STORAGE_TIMEOUT_MS = 1000;

/**
 * The database answers within a second, and its writes are not failing. Reachable is not enough: writes that keep
 * failing (a full disk, a read-only replica) mean records are waiting in memory, and a load balancer should
 * prefer another replica.
 */
@Injectable()
export class StorageReadiness extends ReadinessIndicator {
  readonly key = 'storage';

  constructor(
    private readonly store: IdempotencyStore,
    private readonly writes: StorageHealth,
    private readonly clock: Clock,
  ) {
    super();
  }

  async check(session: ReadinessSession) {
    try {
      await withTimeout(this.store.ping(), STORAGE_TIMEOUT_MS, { clock: this.clock, message: 'timed out' });
      const failure = this.writes.lastError;
      if (this.writes.failing && failure) {
        return session.down({ message: `writes failing since ${failure.at.toISOString()}: ${failure.message}` });
      }
      return session.up();
    } catch (error) {
      return session.down({ message: errorMessage(error) });
    }
  }
}
