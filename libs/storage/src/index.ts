export { StorageModule } from './storage.module.js';
export { IdempotencyStore, WEBHOOK_CLAIM_TTL_MS } from './idempotency.store.js';
export {
  CallRecordsRepository,
  type CallRecord,
  type CallStatus,
  type NewCallRecord,
  type TranscriptLineRecord,
  type Speaker,
  type CallQuery,
  type CallPage,
} from './call-records.repository.js';
