import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { defineConfig } from './define-config.js';

class AppEnv {
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 8080;

  @IsOptional()
  @IsString()
  HOST?: string;

  @IsIn(['error', 'warn', 'log', 'debug', 'verbose'])
  LOG_LEVEL: 'error' | 'warn' | 'log' | 'debug' | 'verbose' = 'log';
}

/** Process-level settings of the deployable service. */
export const appConfig = defineConfig('app', AppEnv, (env) => ({
  port: env.PORT,
  host: env.HOST ?? '0.0.0.0',
  logLevel: env.LOG_LEVEL,
}));
