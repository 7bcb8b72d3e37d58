export { NotificationsModule } from './notifications.module.js';
export { Notifications } from './notifications.service.js';
export { callTag } from './call-notifications.listener.js';
export { notificationsConfig } from './notifications.config.js';
export type { NotificationPayload, NotificationSink, RenderedMessage, SendOutcome } from './notification.js';
export type { Notification } from './destination-queue.js';
