import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { NotificationsModule } from '#notifications';
import { HealthController } from './health.controller.js';
import { Lifecycle } from './lifecycle.service.js';

@Global()
@Module({
  imports: [TerminusModule.forRoot({ logger: false }), NotificationsModule],
  controllers: [HealthController],
  providers: [Lifecycle],
  exports: [Lifecycle],
})
export class HealthModule {}
