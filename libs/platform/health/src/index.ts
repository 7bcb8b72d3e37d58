export { HealthModule } from './health.module.js';
export { Lifecycle } from './lifecycle.service.js';
export { ReadinessIndicator, DrainableWork, type ReadinessSession } from './readiness.js';
export { shutdownConfig } from './shutdown.config.js';
