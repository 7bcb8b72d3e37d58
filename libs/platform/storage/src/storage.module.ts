import { Global, Inject, Injectable, Logger, Module, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import type { ConfigType } from '#config';
import { Clock } from '#resilience';
import { SharedBroadcast } from './broadcast.js';
import { CallEvents } from './call-events.js';
import { CallLeases, LocalCallLeases } from './call-leases.js';
import { CallRecordsRepository } from './call-records.repository.js';
import { IdempotencyStore } from './idempotency.store.js';
import { NotificationOutbox } from './notification-outbox.js';
import { RetentionPurger } from './retention-purger.js';
import { openStorage } from './sql/database.js';
import type { StorageDb, StorageDialect } from './sql/schema.js';
import { SqlCallEvents } from './sql/sql-call-events.js';
import { LocalBroadcast, PostgresBroadcast } from './sql/pg-broadcast.js';
import { PostgresCallLeases } from './sql/pg-call-leases.js';
import { SqlCallRecordsRepository } from './sql/sql-call-records.repository.js';
import { SqlIdempotencyStore } from './sql/sql-idempotency.store.js';
import { SqlNotificationOutbox } from './sql/sql-notification-outbox.js';
import { SqlToolInvocations } from './sql/sql-tool-invocations.js';
import { StorageHealth, errorMessage } from './storage-health.js';
import { StorageReadiness } from './storage.health.js';
import { ToolInvocations } from './tool-invocations.js';
import { storageConfig } from './storage.config.js';
import { KYSELY, STORAGE_DIALECT } from './storage.tokens.js';

const logger = new Logger('Storage');

/**
 * Closes the database last. StorageModule is global, and Nest shuts global modules down after every feature
 * module, so writers that flush in their own `onApplicationShutdown` (call records) have finished by then.
 */
@Injectable()
class StorageShutdown implements OnApplicationShutdown {
  constructor(
    @Inject(KYSELY) private readonly db: StorageDb,
    private readonly purger: RetentionPurger,
    private readonly broadcast: SharedBroadcast,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.purger.idle();
    if (this.broadcast instanceof PostgresBroadcast) await this.broadcast.close();
    await this.db.destroy();
  }
}

/**
 * The storage port and its SQL adapters: PostgreSQL when DATABASE_URL is set, else SQLite in DATA_DIR. The schema
 * is migrated before anything can inject the database. Features only ever inject the abstract classes.
 */
@Global()
@Module({
  imports: [ConfigModule.forFeature(storageConfig)],
  providers: [
    {
      provide: KYSELY,
      inject: [storageConfig.KEY],
      useFactory: async (config: ConfigType<typeof storageConfig>): Promise<StorageDb> => {
        const { db, description } = await openStorage(config, {
          onIdleError: (error) => logger.warn(`an idle database connection failed (it is replaced): ${errorMessage(error)}`),
          onCheckpointError: (error) =>
            logger.warn(`SQLite checkpoints are back on the event loop, their worker failed: ${errorMessage(error)}`),
        });
        logger.log(`call records in ${description}, schema up to date`);
        return db;
      },
    },
    {
      provide: STORAGE_DIALECT,
      inject: [storageConfig.KEY],
      useFactory: (config: ConfigType<typeof storageConfig>): StorageDialect => (config.databaseUrl ? 'postgres' : 'sqlite'),
    },
    StorageHealth,
    SqlIdempotencyStore,
    { provide: IdempotencyStore, useExisting: SqlIdempotencyStore },
    { provide: CallRecordsRepository, useClass: SqlCallRecordsRepository },
    { provide: NotificationOutbox, useClass: SqlNotificationOutbox },
    { provide: ToolInvocations, useClass: SqlToolInvocations },
    { provide: CallEvents, useClass: SqlCallEvents },
    {
      provide: SharedBroadcast,
      inject: [KYSELY, storageConfig.KEY, Clock],
      useFactory: (db: StorageDb, config: ConfigType<typeof storageConfig>, clock: Clock): SharedBroadcast =>
        config.databaseUrl ? new PostgresBroadcast(db, { connectionString: config.databaseUrl }, clock) : new LocalBroadcast(),
    },
    {
      provide: CallLeases,
      inject: [KYSELY, STORAGE_DIALECT],
      useFactory: (db: StorageDb, dialect: StorageDialect): CallLeases => (dialect === 'postgres' ? new PostgresCallLeases(db) : new LocalCallLeases()),
    },
    RetentionPurger,
    StorageReadiness,
    StorageShutdown,
  ],
  exports: [KYSELY, CallLeases, IdempotencyStore, CallRecordsRepository, NotificationOutbox, StorageHealth, ToolInvocations, CallEvents, SharedBroadcast, RetentionPurger],
})
export class StorageModule {}
