import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { IdempotencyStore } from './idempotency.store.js';

/** Process-local claims: right for a single replica; a shared adapter replaces it for several. */
@Injectable()
export class MemoryIdempotencyStore extends IdempotencyStore implements OnModuleDestroy {
  private readonly expiries = new Map<string, number>();
  private readonly sweeper = setInterval(() => this.sweep(), 60_000).unref();

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const now = Date.now();
    const expiry = this.expiries.get(key);
    if (expiry !== undefined && expiry > now) return false;
    this.expiries.set(key, now + ttlMs);
    return true;
  }

  async release(key: string): Promise<void> {
    this.expiries.delete(key);
  }

  async ping(): Promise<void> {}

  onModuleDestroy(): void {
    clearInterval(this.sweeper);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, expiry] of this.expiries) if (expiry <= now) this.expiries.delete(key);
  }
}
