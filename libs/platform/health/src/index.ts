export { HealthModule } from './health.module.js';
export { Lifecycle } from './lifecycle.service.js';
export { shutdownConfig } from './shutdown.config.js';
