import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { Lifecycle } from './lifecycle.service.js';
import { CallsService } from '#calls';
import { Notifications } from '#notifications';
import { IdempotencyStore, StorageHealth } from '#storage';

const STORAGE_TIMEOUT_MS = 1000;

/** Kubernetes probes. Liveness is the process alone; readiness is "send me calls". */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly lifecycle: Lifecycle,
    private readonly store: IdempotencyStore,
    private readonly storageHealth: StorageHealth,
    private readonly notifications: Notifications,
    private readonly calls: CallsService,
  ) {}

  /** Never touches OpenAI, Discord or a database: a dependency outage must not get healthy pods restarted. */
  @Get()
  @HealthCheck()
  live() {
    return this.health.check([() => this.indicators.check('process').up({ uptimeSeconds: Math.round(process.uptime()) })]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      // The process only runs with a valid configuration: it refuses to start otherwise.
      () => this.indicators.check('config').up(),
      () => {
        const lifecycle = this.indicators.check('lifecycle');
        return this.lifecycle.draining ? lifecycle.down({ message: 'shutting down' }) : lifecycle.up();
      },
      () => {
        // At MAX_CONCURRENT_CALLS the next call would be rejected: let the load balancer prefer another replica.
        const capacity = this.indicators.check('capacity');
        const status = { active: this.calls.activeCalls, max: this.calls.maxConcurrentCalls || null };
        return this.calls.atCapacity ? capacity.down({ message: 'at capacity', ...status }) : capacity.up(status);
      },
      () => {
        // A dead webhook does not stop calls being answered: degraded (still 200), not down.
        const notifications = this.indicators.check('notifications');
        const disabled = this.notifications.disabledDestinations;
        return disabled.length > 0
          ? notifications.degraded({ disabled: disabled.map((d) => `${d.label}: ${d.reason}`), backlog: this.notifications.backlog })
          : notifications.up({ backlog: this.notifications.backlog });
      },
      async () => {
        const storage = this.indicators.check('storage');
        try {
          await Promise.race([
            this.store.ping(),
            new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), STORAGE_TIMEOUT_MS).unref()),
          ]);
          // Reachable is not enough: writes that keep failing (a full disk, a read-only replica) mean records are
          // waiting in memory, and a load balancer should prefer another replica.
          const failure = this.storageHealth.lastError;
          if (this.storageHealth.failing && failure) {
            return storage.down({ message: `writes failing since ${failure.at.toISOString()}: ${failure.message}` });
          }
          return storage.up();
        } catch (error) {
          return storage.down({ message: (error as Error).message });
        }
      },
    ]);
  }
}
