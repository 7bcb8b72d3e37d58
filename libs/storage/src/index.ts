export { StorageModule } from './storage.module.js';
export { IdempotencyStore, WEBHOOK_CLAIM_TTL_MS } from './idempotency.store.js';
