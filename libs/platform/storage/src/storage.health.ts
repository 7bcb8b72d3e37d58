import { Injectable } from '@nestjs/common';
import { IdempotencyStore } from './idempotency.store.js';
import { StorageHealth, errorMessage } from './storage-health.js';
import { ReadinessIndicator, type ReadinessSession } from '#health';

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
  ) {
    super();
  }

  async check(session: ReadinessSession) {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.store.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('timed out')), STORAGE_TIMEOUT_MS).unref();
        }),
      ]);
      const failure = this.writes.lastError;
      if (this.writes.failing && failure) {
        return session.down({ message: `writes failing since ${failure.at.toISOString()}: ${failure.message}` });
      }
      return session.up();
    } catch (error) {
      return session.down({ message: errorMessage(error) });
    } finally {
      clearTimeout(timer);
    }
  }
}
