import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { HealthContributions } from './readiness.js';
import { shutdownConfig } from './shutdown.config.js';
import type { ConfigType } from '#config';
import { Clock, errorMessage, type Timer } from '#resilience';

const DRAIN_POLL_MS = 200;

/**
 * Whether this process is still taking work, and the drain before it stops: readiness fails and new calls are
 * turned away (503) from the moment draining starts, while calls in progress run to their end. Nest runs every
 * `onModuleDestroy` before any `beforeApplicationShutdown`, so even a close without a drain fails readiness before
 * active calls are closed.
 */
@Injectable()
export class Lifecycle implements OnModuleDestroy {
  private readonly logger = new Logger(Lifecycle.name);
  private drainingSince?: Date;
  private cutShort?: () => void;

  constructor(
    private readonly contributions: HealthContributions,
    private readonly clock: Clock,
    @Inject(shutdownConfig.KEY) private readonly config: ConfigType<typeof shutdownConfig>,
  ) {}

  get draining(): boolean {
    return this.drainingSince !== undefined;
  }

  /**
   * Stops taking calls and waits (at most SHUTDOWN_DRAIN_SECONDS, or until `endDrain`) for the work in progress
   * (every `DrainableWork`: the calls, accepts in flight included) to end.
   */
  async drain(why: string): Promise<void> {
    this.beginDrain(why);
    const started = this.clock.now();
    const active = () => this.contributions.drainable.reduce((sum, work) => sum + work.inProgress, 0);
    const noun = this.contributions.drainable.map((work) => work.noun).join(' or ') || 'task';
    // Work that can go on elsewhere goes first (calls to another replica); what is left is waited for.
    await Promise.all(
      this.contributions.drainable.map((work) =>
        work.handOver?.().catch((error: unknown) => this.logger.error(`handing ${work.noun}s over failed: ${errorMessage(error)}`)),
      ),
    );
    if (active() === 0) return;
    this.logger.log(`draining: waiting up to ${this.config.drainMs / 1000} s for ${active()} ${noun}(s) in progress to end`);
    // The drain's timers hold the process open (ref): nothing else may be left to keep it alive while it waits.
    const finished = await new Promise<boolean>((resolve) => {
      let poll: Timer | undefined;
      const check = () => (active() === 0 ? done(true) : (poll = this.clock.setTimeout(check, DRAIN_POLL_MS, { ref: true })));
      const deadline = this.clock.setTimeout(() => done(false), this.config.drainMs, { ref: true });
      const done = (allEnded: boolean) => {
        this.clock.clearTimeout(poll);
        this.clock.clearTimeout(deadline);
        this.cutShort = undefined;
        resolve(allEnded);
      };
      this.cutShort = () => done(false);
      poll = this.clock.setTimeout(check, DRAIN_POLL_MS, { ref: true });
    });
    const seconds = ((this.clock.now() - started) / 1000).toFixed(1);
    if (finished) this.logger.log(`drained: every ${noun} ended within ${seconds} s`);
    else this.logger.warn(`drain cut short after ${seconds} s: ${active()} ${noun}(s) still in progress are closed now`);
  }

  /** Ends a drain in progress now (a second signal). */
  endDrain(why: string): void {
    if (!this.cutShort) return;
    this.logger.warn(`${why}: ending the drain now`);
    this.cutShort();
  }

  reportShutdownFailure(error: unknown): void {
    this.logger.error(`shutdown failed: ${errorMessage(error)}`);
  }

  onModuleDestroy(): void {
    this.beginDrain('closing');
  }

  private beginDrain(why: string): void {
    if (this.drainingSince) return;
    this.drainingSince = new Date();
    this.logger.log(`shutting down (${why}): readiness now fails and new calls are turned away`);
  }
}
