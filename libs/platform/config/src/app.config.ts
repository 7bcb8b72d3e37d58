import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
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
}

/** Process-level settings of the deployable service. */
export const appConfig = defineConfig('app', AppEnv, (env) => ({
  port: env.PORT,
  host: env.HOST ?? '0.0.0.0',
}));
