import { Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { BridgeMetricsListener } from './bridge-metrics.listener.js';
import { MetricsRegistry } from './metrics-registry.js';
import { metricsConfig } from './metrics.config.js';
import { MetricsController } from './metrics.controller.js';

/** `GET /metrics` and the registry every library declares its metrics on. */
@Global()
@Module({
  imports: [ConfigModule.forFeature(metricsConfig)],
  controllers: [MetricsController],
  providers: [MetricsRegistry, BridgeMetricsListener],
  exports: [MetricsRegistry],
})
export class MetricsModule {}
