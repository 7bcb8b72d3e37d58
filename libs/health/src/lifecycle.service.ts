import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';

/**
 * Whether this process is still taking work. Nest runs every `onModuleDestroy` before any
 * `beforeApplicationShutdown`, so readiness has failed before active calls are closed.
 */
@Injectable()
export class Lifecycle implements OnModuleDestroy {
  private readonly logger = new Logger(Lifecycle.name);
  private drainingSince?: Date;

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  onModuleDestroy(): void {
    if (this.drainingSince) return;
    this.drainingSince = new Date();
    this.logger.log('shutting down: readiness now fails');
  }
}
