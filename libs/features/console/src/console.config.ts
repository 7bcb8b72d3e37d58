import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { defineConfig } from '#config';

class ConsoleEnv {
  /** Feed events kept for a reconnecting console to resume from (beyond, it reloads its lists). */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(1_000_000)
  CONSOLE_FEED_BUFFER = 20_000;

  /** Where the built console is (default: `dist/console` of this checkout). */
  @IsOptional()
  @IsString()
  CONSOLE_ASSETS_DIR?: string;
}

export const consoleConfig = defineConfig('console', ConsoleEnv, (env) => ({
  feedBuffer: env.CONSOLE_FEED_BUFFER,
  assetsDir: env.CONSOLE_ASSETS_DIR,
}));
