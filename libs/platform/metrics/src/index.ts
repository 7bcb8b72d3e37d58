export { MetricsModule } from './metrics.module.js';
export { MetricsRegistry, LATENCY_BUCKETS } from './metrics-registry.js';
export { metricsConfig } from './metrics.config.js';
