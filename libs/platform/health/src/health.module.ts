import { Global, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { Lifecycle } from './lifecycle.service.js';
import { shutdownConfig } from './shutdown.config.js';
import { CallsModule } from '#calls';
import { NotificationsModule } from '#notifications';

@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), ConfigModule.forFeature(shutdownConfig), CallsModule, NotificationsModule],
  controllers: [HealthController],
  providers: [Lifecycle],
  exports: [Lifecycle],
})
export class HealthModule {}
