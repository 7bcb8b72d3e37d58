import { randomBytes } from 'node:crypto';
import { callIdOf, type FeedEntry, type FeedEvent } from './feed-event.js';
import { FeedLog, RESET } from './feed-log.js';

/**
 * The feed of one process: a ring of the last `capacity` entries. Ids are `<boot>-<n>`: a browser that reconnects
 * after a restart (another boot) or after more than `capacity` events is told to reset (fetch its lists again), never
 * handed a feed with a hole in it.
 */
export class MemoryFeedLog extends FeedLog {
  private readonly boot = randomBytes(4).toString('hex');
  private readonly ring: FeedEntry[] = [];
  private start = 0;
  private next = 1;
  private readonly listeners = new Set<(entry: FeedEntry) => void>();

  constructor(private readonly capacity: number) {
    super();
  }

  publish(event: FeedEvent): void {
    const callId = callIdOf(event);
    const entry: FeedEntry = { id: `${this.boot}-${this.next++}`, data: JSON.stringify(event), ...(callId ? { callId } : {}) };
    if (this.ring.length < this.capacity) this.ring.push(entry);
    else {
      this.ring[this.start] = entry;
      this.start = (this.start + 1) % this.capacity;
    }
    for (const listener of this.listeners) listener(entry);
  }

  subscribe(listener: (entry: FeedEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get head(): string {
    return this.next === 1 ? `${this.boot}-0` : `${this.boot}-${this.next - 1}`;
  }

  override isAfter(id: string, lastEventId: string): boolean {
    const [boot, n] = lastEventId.split('-');
    if (boot !== this.boot) return true;
    return Number(id.split('-')[1]) > Number(n);
  }

  async since(lastEventId: string): Promise<FeedEntry[] | typeof RESET> {
    const match = /^([0-9a-f]{8})-(\d{1,15})$/.exec(lastEventId);
    if (!match || match[1] !== this.boot) return RESET;
    const after = Number(match[2]);
    const newest = this.next - 1;
    if (after > newest) return RESET;
    const oldest = newest - this.ring.length + 1;
    if (after < oldest - 1) return RESET;
    const count = newest - after;
    const entries: FeedEntry[] = [];
    for (let i = this.ring.length - count; i < this.ring.length; i++) entries.push(this.ring[(this.start + i) % this.ring.length]);
    return entries;
  }
}
