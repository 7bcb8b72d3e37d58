import { systemClock, type Clock, type Timer } from '#resilience';

/**
 * This process's own recent claims, each with its expiry, in two generations: every `generationMs` the older
 * generation is dropped whole. Forgetting is O(1) — no sweep over hundreds of thousands of keys blocking the event
 * loop at 200 calls/s — and no claim is forgotten before `generationMs` (nor kept beyond twice that).
 */
export class RecentClaims {
  private current = new Map<string, number>();
  private previous = new Map<string, number>();
  private rotation?: Timer;

  constructor(
    private readonly generationMs: number,
    private readonly clock: Clock = systemClock,
  ) {
    this.rotation = clock.setTimeout(this.rotate, generationMs);
  }

  /** Claims `key` for `ttlMs` (at most `generationMs`); false while an unexpired claim exists. */
  claim(key: string, ttlMs: number): boolean {
    const now = this.clock.now();
    const expiry = this.current.get(key) ?? this.previous.get(key);
    if (expiry !== undefined && expiry > now) return false;
    this.previous.delete(key);
    this.current.set(key, now + Math.min(ttlMs, this.generationMs));
    return true;
  }

  release(key: string): void {
    this.current.delete(key);
    this.previous.delete(key);
  }

  close(): void {
    this.clock.clearTimeout(this.rotation);
    this.rotation = undefined;
  }

  private readonly rotate = (): void => {
    this.previous = this.current;
    this.current = new Map();
    this.rotation = this.clock.setTimeout(this.rotate, this.generationMs);
  };
}
