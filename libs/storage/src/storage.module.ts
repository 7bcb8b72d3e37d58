import { Global, Module } from '@nestjs/common';
import { IdempotencyStore } from './idempotency.store.js';
import { MemoryIdempotencyStore } from './memory-idempotency.store.js';

/** The storage port. Adapters are chosen here; features only ever inject the abstract classes. */
@Global()
@Module({
  providers: [{ provide: IdempotencyStore, useClass: MemoryIdempotencyStore }],
  exports: [IdempotencyStore],
})
export class StorageModule {}
