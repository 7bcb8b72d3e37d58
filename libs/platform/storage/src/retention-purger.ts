import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { ConfigType } from '#config';
import { Clock, systemClock, type Timer } from '#resilience';
import { CallRecordsRepository } from './call-records.repository.js';
import { SqlIdempotencyStore } from './sql/sql-idempotency.store.js';
import { errorMessage } from './storage-health.js';
import { storageConfig } from './storage.config.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** The first run waits this long (or the interval, if shorter) so start-up is not slowed by it. */
const FIRST_RUN_DELAY_MS = 10_000;

/** What one purge deleted: calls (with their transcripts), claims, and each registered task's count by its name. */
export interface PurgeOutcome {
  /** Calls deleted with their transcripts; undefined when no retention is configured. */
  calls?: number;
  /** Expired idempotency claims deleted. */
  claims: number;
  [task: string]: number | undefined;
}

/**
 * Housekeeping a feature library adds to every purge (its own rows: the conference library's day-old links). It
 * runs after the claims, in registration order; a failure fails that purge like any other.
 */
export interface PurgeTask {
  /** The key of its count in `PurgeOutcome`; logged at debug level when it deleted anything. */
  name: string;
  /** Deletes what has expired at `now`; resolves with how many rows went. */
  purge(now: Date): Promise<number>;
}

/**
 * Housekeeping every STORAGE_PURGE_INTERVAL_MS: calls that ended more than TRANSCRIPT_RETENTION_DAYS ago are deleted
 * with their transcripts (only when that variable is set), and expired idempotency claims and whatever the feature
 * libraries registered (`register`) always. Never throws, never keeps the process alive, never overlaps itself.
 */
@Injectable()
export class RetentionPurger implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RetentionPurger.name);
  private timer?: Timer;
  private running?: Promise<PurgeOutcome | undefined>;
  private stopped = false;
  private readonly tasks: PurgeTask[] = [];

  constructor(
    @Inject(storageConfig.KEY) private readonly config: ConfigType<typeof storageConfig>,
    private readonly records: CallRecordsRepository,
    private readonly claims: SqlIdempotencyStore,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Adds a feature's housekeeping to every purge (call it at start-up: `onModuleInit`). */
  register(task: PurgeTask): void {
    this.tasks.push(task);
  }

  onApplicationBootstrap(): void {
    const { purgeIntervalMs, retentionDays } = this.config;
    if (retentionDays !== undefined) {
      this.logger.log(`ended calls and their transcripts are deleted after ${retentionDays} day(s)`);
    }
    this.timer = this.clock.setTimeout(() => this.tick(), Math.min(FIRST_RUN_DELAY_MS, purgeIntervalMs));
  }

  onModuleDestroy(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
  }

  /** Resolves when no purge is running (shutdown waits for it before closing the database). */
  async idle(): Promise<void> {
    await this.running;
  }

  /** One purge now; resolves undefined when it failed (the failure is logged) or one was already running. */
  runOnce(now = new Date(this.clock.now())): Promise<PurgeOutcome | undefined> {
    if (this.running) return Promise.resolve(undefined);
    this.running = this.purge(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private tick(): void {
    void this.runOnce().finally(() => {
      if (!this.stopped) this.timer = this.clock.setTimeout(() => this.tick(), this.config.purgeIntervalMs);
    });
  }

  private async purge(now: Date): Promise<PurgeOutcome | undefined> {
    try {
      const outcome: PurgeOutcome = {
        claims: await this.claims.deleteExpired(now.getTime()),
      };
      for (const task of this.tasks) outcome[task.name] = await task.purge(now);
      const { retentionDays } = this.config;
      if (retentionDays !== undefined) {
        const cutoff = new Date(now.getTime() - retentionDays * DAY_MS);
        outcome.calls = await this.records.purgeEndedBefore(cutoff);
        const message = `retention: deleted ${outcome.calls} call(s) ended before ${cutoff.toISOString()}`;
        if (outcome.calls > 0) this.logger.log(message);
        else this.logger.debug(message);
      }
      if (outcome.claims > 0) this.logger.debug(`deleted ${outcome.claims} expired idempotency claim(s)`);
      for (const { name } of this.tasks) if (outcome[name]) this.logger.debug(`${name}: deleted ${outcome[name]} expired row(s)`);
      return outcome;
    } catch (error) {
      this.logger.warn(`storage purge failed, retrying in ${this.config.purgeIntervalMs} ms: ${errorMessage(error)}`);
      return undefined;
    }
  }
}
