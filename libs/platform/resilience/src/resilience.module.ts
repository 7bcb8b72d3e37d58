import { Global, Module } from '@nestjs/common';
import { Clock, SystemClock } from './clock.js';

/** The real clock for everything that injects `Clock`. Registered once, by the application (specs swap in a ManualClock). */
@Global()
@Module({
  providers: [{ provide: Clock, useClass: SystemClock }],
  exports: [Clock],
})
export class ResilienceModule {}
