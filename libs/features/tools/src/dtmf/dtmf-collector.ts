import { systemClock, type Clock, type Timer } from '#resilience';

/** The keys a phone can send (RFC 4733 events 0-15). */
const DTMF_KEY = /^[0-9*#A-D]$/;
/** A run of digits longer than this is handed over at once (nobody types a 33-digit number on purpose). */
const MAX_BUFFERED = 32;

export interface DtmfCollectorOptions {
  /** Quiet time after the last key before the buffered digits are handed over. */
  interDigitMs: number;
  /** Keys that trigger an action instead of being buffered (key → tool name). */
  keyMap: ReadonlyMap<string, string>;
  /** Buffered digits, in the order pressed (a final `#` included). */
  onDigits: (keys: string[]) => void;
  /** A mapped key was pressed (after any digits before it were handed over). */
  onAction: (key: string, tool: string) => void;
  /** The clock of the inter-digit pause (default: the system clock). */
  clock?: Clock;
}

/**
 * One call's key presses: digits are collected until the caller pauses or presses `#`, then handed over together;
 * keys of the key map act at once.
 */
export class DtmfCollector {
  private buffer: string[] = [];
  private timer?: Timer;
  private readonly clock: Clock;

  constructor(private readonly options: DtmfCollectorOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Normalises a key as reported ("a" → "A"); undefined when it is not a DTMF key. */
  static keyOf(value: unknown): string | undefined {
    if (typeof value !== 'string') return undefined;
    const key = value.trim().toUpperCase();
    return DTMF_KEY.test(key) ? key : undefined;
  }

  get pending(): readonly string[] {
    return this.buffer;
  }

  press(key: string): void {
    const tool = this.options.keyMap.get(key);
    if (tool !== undefined) {
      this.flush();
      this.options.onAction(key, tool);
      return;
    }
    this.buffer.push(key);
    if (key === '#' || this.buffer.length >= MAX_BUFFERED) {
      this.flush();
      return;
    }
    this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => this.flush(), this.options.interDigitMs);
  }

  /** Hands over whatever is buffered now. */
  flush(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    if (this.buffer.length === 0) return;
    const keys = this.buffer;
    this.buffer = [];
    this.options.onDigits(keys);
  }

  /** Drops the buffer (the call ended: there is nobody to tell). */
  dispose(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.buffer = [];
  }
}
