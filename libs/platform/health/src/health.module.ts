import { Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { DiscoveryModule } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { Lifecycle } from './lifecycle.service.js';
import { HealthContributions } from './readiness.js';
import { shutdownConfig } from './shutdown.config.js';

/**
 * `GET /health` and `GET /health/ready`, and the process's lifecycle (taking work, draining). Plumbing: it imports
 * no feature library; each contributes its `ReadinessIndicator` and `DrainableWork` providers, found at run time.
 */
@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), ConfigModule.forFeature(shutdownConfig), DiscoveryModule],
  controllers: [HealthController],
  providers: [Lifecycle, HealthContributions],
  exports: [Lifecycle],
})
export class HealthModule {}
