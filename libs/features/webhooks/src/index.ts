export { WebhooksModule } from './webhooks.module.js';
export { webhooksConfig } from './webhooks.config.js';
export { WebhookError, WebhookErrorCode } from './webhooks.errors.js';
