export { HealthModule } from './health.module.js';
export { Lifecycle } from './lifecycle.service.js';
