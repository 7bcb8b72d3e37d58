import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { CallNotifications } from './call-notifications.listener.js';
import { notificationsConfig } from './notifications.config.js';
import { NotificationMetrics } from './notification.metrics.js';
import { Notifications } from './notifications.service.js';

/** Announcements, live transcript lines and call summaries, delivered to Discord through a durable outbox. */
@Module({
  imports: [ConfigModule.forFeature(notificationsConfig)],
  providers: [Notifications, CallNotifications, NotificationMetrics],
  exports: [Notifications],
})
export class NotificationsModule {}
