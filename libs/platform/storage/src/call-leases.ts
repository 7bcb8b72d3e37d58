/** A call taken over by `takeExpired`. */
export interface TakenCall {
  callId: string;
  /** The lease's fence after the take-over (one more than its last owner's). */
  fence: number;
  /** `handover`: its owner released it while draining; `expired`: its owner stopped renewing it. */
  cause: 'handover' | 'expired';
  /** What its first owner stored with the lease (`acquire`). */
  call: string;
}

/**
 * Which replica owns each live call: a lease in the shared database that its owner renews. The owner holds the
 * call's sideband and nobody else does; when the owner drains it releases its calls, and when it dies its leases run
 * out — either way another replica takes the call over (`takeExpired`) and reopens its sideband.
 *
 * Expiry is read on the database's clock, so replicas' clocks need not agree. On SQLite (one process) there is no
 * one to hand a call to: `shared` is false and the operations do nothing.
 */
export abstract class CallLeases {
  /** True when replicas share the leases (PostgreSQL). */
  abstract readonly shared: boolean;
  /** A call this replica has just accepted is its own for `ttlMs`; `call` (JSON) is what a next owner needs. */
  abstract acquire(callId: string, owner: string, ttlMs: number, call: string): Promise<void>;
  /** Extends `owner`'s leases on these calls; answers the calls among them it no longer owns. */
  abstract renew(owner: string, callIds: readonly string[], ttlMs: number): Promise<string[]>;
  /** Takes over at most `limit` calls whose lease has run out or was released, oldest expiry first. */
  abstract takeExpired(owner: string, ttlMs: number, limit: number): Promise<TakenCall[]>;
  /** A draining owner gives these calls up, for another replica to take at once. */
  abstract release(owner: string, callIds: readonly string[]): Promise<void>;
  /** The call ended: nobody owns it any more (whoever held it). */
  abstract remove(callId: string): Promise<void>;
}

/** SQLite: one process holds every call, there is nobody to hand one to. */
export class LocalCallLeases extends CallLeases {
  readonly shared = false;
  async acquire(): Promise<void> {}
  async renew(): Promise<string[]> {
    return [];
  }
  async takeExpired(): Promise<TakenCall[]> {
    return [];
  }
  async release(): Promise<void> {}
  async remove(): Promise<void> {}
}
