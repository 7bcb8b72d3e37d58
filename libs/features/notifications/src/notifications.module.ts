import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { CallNotifications } from './call-notifications.listener.js';
import { notificationsConfig } from './notifications.config.js';
import { NotificationMetrics } from './notification.metrics.js';
import { NotificationsReadiness } from './notifications.health.js';
import { Notifications } from './notifications.service.js';
import { TransferNotifications } from './transfer-notifications.listener.js';
import { TranscriptsModule } from '#transcripts';

/**
 * Announcements, live transcript lines, warm-transfer briefings and call summaries, delivered to Discord through a
 * durable outbox.
 */
@Module({
  imports: [ConfigModule.forFeature(notificationsConfig), TranscriptsModule],
  providers: [Notifications, CallNotifications, NotificationMetrics, TransferNotifications, NotificationsReadiness],
  exports: [Notifications],
})
export class NotificationsModule {}
