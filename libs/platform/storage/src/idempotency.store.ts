/**
 * Claims keys so that a side effect runs once although its trigger arrives many times (webhook retries,
 * duplicate deliveries, several replicas). A claim lives for `ttlMs`: OpenAI retries a webhook for 72 h.
 */
export abstract class IdempotencyStore {
  /** True when this caller now owns the key; false when someone already claimed it and it has not expired. */
  abstract claim(key: string, ttlMs: number): Promise<boolean>;
  /** Gives a claim back, so that a retry of a failed attempt can claim it again. */
  abstract release(key: string): Promise<void>;
  /** Throws when the store cannot be reached (readiness). */
  abstract ping(): Promise<void>;
}

/** Kept a little over OpenAI's 72-hour retry window. */
export const WEBHOOK_CLAIM_TTL_MS = 73 * 60 * 60 * 1000;
