import { Injectable } from '@nestjs/common';
import { CallOwnership } from './call-ownership.service.js';
import { CallsService } from './calls.service.js';
import { DrainableWork, ReadinessIndicator, type ReadinessSession } from '#health';

/** At MAX_CONCURRENT_CALLS the next call would be rejected: let the load balancer prefer another replica. */
@Injectable()
export class CapacityReadiness extends ReadinessIndicator {
  readonly key = 'capacity';

  constructor(private readonly calls: CallsService) {
    super();
  }

  check(session: ReadinessSession) {
    const status = { active: this.calls.activeCalls, max: this.calls.maxConcurrentCalls || null };
    return this.calls.atCapacity ? session.down({ message: 'at capacity', ...status }) : session.up(status);
  }
}

/**
 * A drain hands the live calls to another replica (PostgreSQL), then waits for the calls still here (accepts in
 * flight included; every call on SQLite) to end.
 */
@Injectable()
export class CallsDrain extends DrainableWork {
  readonly noun = 'call';

  constructor(
    private readonly calls: CallsService,
    private readonly ownership: CallOwnership,
  ) {
    super();
  }

  get inProgress(): number {
    return this.calls.activeCalls;
  }

  override handOver(): Promise<void> {
    return this.ownership.handOver();
  }
}
