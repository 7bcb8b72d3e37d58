import { timingSafeEqual } from 'node:crypto';
import { Controller, Get, Headers, Inject, Res, UnauthorizedException } from '@nestjs/common';
import type { Response } from 'express';
import { MetricsRegistry } from './metrics-registry.js';
import { metricsConfig } from './metrics.config.js';
import type { ConfigType } from '#config';

/** `GET /metrics`: Prometheus text format, behind a bearer token when METRICS_TOKEN is set. */
@Controller('metrics')
export class MetricsController {
  private readonly token?: Buffer;

  constructor(
    private readonly metrics: MetricsRegistry,
    @Inject(metricsConfig.KEY) config: ConfigType<typeof metricsConfig>,
  ) {
    this.token = config.token ? Buffer.from(config.token) : undefined;
  }

  @Get()
  async scrape(@Headers('authorization') authorization: string | undefined, @Res() response: Response): Promise<void> {
    if (this.token && !this.authorized(authorization)) throw new UnauthorizedException();
    response.setHeader('content-type', this.metrics.registry.contentType);
    response.send(await this.metrics.registry.metrics());
  }

  private authorized(header: string | undefined): boolean {
    const given = Buffer.from(/^Bearer (.+)$/.exec(header ?? '')?.[1] ?? '');
    return given.length === this.token!.length && timingSafeEqual(given, this.token!);
  }
}
