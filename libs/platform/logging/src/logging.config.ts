import { IsBooleanString, IsIn, IsOptional } from 'class-validator';
import { defineConfig } from '#config';

class LoggingEnv {
  /** Lowest level written (Nest names: `log` is info, `verbose` is trace). */
  @IsIn(['error', 'warn', 'log', 'debug', 'verbose'])
  LOG_LEVEL: 'error' | 'warn' | 'log' | 'debug' | 'verbose' = 'log';

  /** `true` keeps phone numbers and SIP URIs in log lines (secrets are always removed). */
  @IsOptional()
  @IsBooleanString({ message: 'must be true or false' })
  LOG_PII?: string;

  /** `json` (one object per line, for log collectors) or `pretty` (for a terminal). */
  @IsIn(['json', 'pretty'])
  LOG_FORMAT: 'json' | 'pretty' = 'json';
}

export const loggingConfig = defineConfig('logging', LoggingEnv, (env) => ({
  level: env.LOG_LEVEL,
  pii: env.LOG_PII === 'true' || env.LOG_PII === '1',
  format: env.LOG_FORMAT,
}));
