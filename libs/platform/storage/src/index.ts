export { StorageModule } from './storage.module.js';
export { KYSELY } from './storage.tokens.js';
export { storageConfig, type StorageConfig } from './storage.config.js';
export { StorageHealth, type StorageFailure } from './storage-health.js';
export { OrderedRetryQueue, type OrderedRetryQueueOptions } from './ordered-retry-queue.js';
export { IdempotencyStore, WEBHOOK_CLAIM_TTL_MS } from './idempotency.store.js';
export { MemoryIdempotencyStore } from './memory-idempotency.store.js';
export {
  CallRecordsRepository,
  type CallRecord,
  type CallStatus,
  type CallEnd,
  type CallRecordWrite,
  type NewCallRecord,
  type TranscriptLineRecord,
  type Speaker,
  type CallQuery,
  type CallPage,
  type CallSummaryRecord,
  type LineMatch,
  type CallStats,
  type StatsWindow,
  WriteBehind,
} from './call-records.repository.js';
export { CallEvents, type CallEventRecord, type CallEventKind } from './call-events.js';
export { CallLeases, LocalCallLeases, type TakenCall } from './call-leases.js';
export { PostgresCallLeases } from './sql/pg-call-leases.js';
export { SharedBroadcast, type BroadcastEntry } from './broadcast.js';
export { SqlCallEvents } from './sql/sql-call-events.js';
export { searchWords } from './sql/search-terms.js';
export {
  NotificationOutbox,
  OUTBOX_LEASE_MS,
  type OutboxMessage,
  type OutboxStatus,
  type NewOutboxMessage,
} from './notification-outbox.js';
export { SqlNotificationOutbox } from './sql/sql-notification-outbox.js';
export { ToolInvocations, durationOf, type ToolInvocationRecord } from './tool-invocations.js';
export { SqlToolInvocations } from './sql/sql-tool-invocations.js';
export { RetentionPurger, type PurgeOutcome, type PurgeTask } from './retention-purger.js';
export { InvalidCursorError, SqlCallRecordsRepository } from './sql/sql-call-records.repository.js';
export { SqlIdempotencyStore } from './sql/sql-idempotency.store.js';
export { createPostgresDatabase, createSqliteDatabase, openStorage, SQLITE_FILE_NAME, type OpenedStorage, type StorageBackgroundErrors } from './sql/database.js';
export { migrateToLatest } from './sql/migrations.js';
export type { StorageDb, StorageDialect, StorageSchema, ConferenceLinksTable, CallEventsTable, CallsTable, TranscriptLinesTable } from './sql/schema.js';
