import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { defineConfig } from '#config';

class ShutdownEnv {
  /**
   * After SIGTERM, how long calls in progress may go on before they are closed (new calls are turned away at once).
   * Kubernetes' terminationGracePeriodSeconds must exceed it (preStop + this + ~15 s to close and flush).
   */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(3600)
  SHUTDOWN_DRAIN_SECONDS = 300;
}

export const shutdownConfig = defineConfig('shutdown', ShutdownEnv, (env) => ({
  drainMs: env.SHUTDOWN_DRAIN_SECONDS * 1000,
}));
