import { IsOptional, IsString, MinLength } from 'class-validator';
import { defineConfig } from '#config';

class MetricsEnv {
  /** When set, `GET /metrics` needs `Authorization: Bearer <token>`. */
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'must be at least 16 characters' })
  METRICS_TOKEN?: string;
}

export const metricsConfig = defineConfig('metrics', MetricsEnv, (env) => ({ token: env.METRICS_TOKEN }));
