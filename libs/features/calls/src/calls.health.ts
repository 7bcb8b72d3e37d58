import { Injectable } from '@nestjs/common';
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

/** A drain waits for the calls in progress (accepts in flight included) to end. */
@Injectable()
export class CallsDrain extends DrainableWork {
  readonly noun = 'call';

  constructor(private readonly calls: CallsService) {
    super();
  }

  get inProgress(): number {
    return this.calls.activeCalls;
  }
}
