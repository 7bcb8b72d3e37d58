/**
 * This process's own recent claims, each with its expiry, in two generations: every `generationMs` the older
 * generation is dropped whole. Forgetting is O(1) — no sweep over hundreds of thousands of keys blocking the event
 * loop at 200 calls/s — and no claim is forgotten before `generationMs` (nor kept beyond twice that).
 */
export class RecentClaims {
  private current = new Map<string, number>();
  private previous = new Map<string, number>();
  private readonly rotation: NodeJS.Timeout;

  constructor(private readonly generationMs: number) {
    this.rotation = setInterval(() => {
      this.previous = this.current;
      this.current = new Map();
    }, generationMs);
    this.rotation.unref();
  }

  /** Claims `key` for `ttlMs` (at most `generationMs`); false while an unexpired claim exists. */
  claim(key: string, ttlMs: number): boolean {
    const now = Date.now();
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
    clearInterval(this.rotation);
  }
}
