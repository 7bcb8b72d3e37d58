import { Injectable } from '@nestjs/common';
import { Notifications } from './notifications.service.js';
import { MetricsRegistry } from '#metrics';

/** The outbox as operations see it: backlog, lag, retries, rate limits, dead destinations. */
@Injectable()
export class NotificationMetrics {
  constructor(metrics: MetricsRegistry, notifications: Notifications) {
    metrics.gauge({
      name: 'bridge_notification_queue_depth',
      help: 'Notifications stored but not yet delivered, across destinations.',
      collect() {
        this.set(notifications.backlog);
      },
    });
    metrics.gauge({
      name: 'bridge_notification_destinations_disabled',
      help: 'Destinations disabled because they are gone (401/403/404).',
      collect() {
        this.set(notifications.disabledDestinations.length);
      },
    });
    const lag = metrics.histogram({
      name: 'bridge_notification_delivery_lag_seconds',
      help: 'From a notification being stored to its delivery.',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    });
    notifications.observeDeliveryLag((ms) => lag.observe(ms / 1000));
    // Counters kept by the queues, brought up to date at each scrape.
    let seen = { retries: 0, rateLimited: 0 };
    const sync = () => {
      const now = notifications.sendStats;
      retries.inc(Math.max(0, now.retries - seen.retries));
      rateLimited.inc(Math.max(0, now.rateLimited - seen.rateLimited));
      seen = now;
    };
    const retries = metrics.counter({
      name: 'bridge_notification_retries_total',
      help: 'Notification sends that will be tried again (429, 5xx, network).',
      collect: sync,
    });
    const rateLimited = metrics.counter({
      name: 'bridge_notification_rate_limited_total',
      help: 'Notification sends refused with 429 by the destination.',
      collect: sync,
    });
  }
}
