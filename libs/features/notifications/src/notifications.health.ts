import { Injectable } from '@nestjs/common';
import { Notifications } from './notifications.service.js';
import { ReadinessIndicator, type ReadinessSession } from '#health';

/** A dead webhook does not stop calls being answered: degraded (still 200), not down. */
@Injectable()
export class NotificationsReadiness extends ReadinessIndicator {
  readonly key = 'notifications';

  constructor(private readonly notifications: Notifications) {
    super();
  }

  check(session: ReadinessSession) {
    const disabled = this.notifications.disabledDestinations;
    return disabled.length > 0
      ? session.degraded({ disabled: disabled.map((d) => `${d.label}: ${d.reason}`), backlog: this.notifications.backlog })
      : session.up({ backlog: this.notifications.backlog });
  }
}
