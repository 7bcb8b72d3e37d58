import { Injectable } from '@nestjs/common';
import { CallSessions } from './call-sessions.service.js';
import { MetricsRegistry } from '#metrics';

/** The calls this process holds, read from the session registry at each scrape (never a second count). */
@Injectable()
export class CallMetrics {
  constructor(metrics: MetricsRegistry, sessions: CallSessions) {
    metrics.gauge({
      name: 'bridge_active_calls',
      help: 'Calls this process holds right now (accepted, not yet ended).',
      collect() {
        this.set(sessions.activeCount);
      },
    });
  }
}
