import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { Lifecycle } from './lifecycle.service.js';
import { HealthContributions } from './readiness.js';

/** Kubernetes probes. Liveness is the process alone; readiness is "send me calls". */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly lifecycle: Lifecycle,
    private readonly contributions: HealthContributions,
  ) {}

  /** Never touches OpenAI, Discord or a database: a dependency outage must not get healthy pods restarted. */
  @Get()
  @HealthCheck()
  live() {
    return this.health.check([() => this.indicators.check('process').up({ uptimeSeconds: Math.round(process.uptime()) })]);
  }

  /** The process's own state, then what each library contributes (`ReadinessIndicator`). */
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
      ...this.contributions.readiness.map((indicator) => () => indicator.check(this.indicators.check(indicator.key))),
    ]);
  }
}
