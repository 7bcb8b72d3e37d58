import 'reflect-metadata';
import { ShutdownSignal, type LoggerService, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { appConfig, assertValidEnvironment, type ConfigType } from '#config';

export interface BridgeOptions {
  /** Nest logger, log levels, or false to silence (tests). */
  logger?: LoggerService | LogLevel[] | false;
  /** Listen on this port instead of PORT (0: any free port). */
  port?: number;
}

const LEVELS: LogLevel[] = ['fatal', 'error', 'warn', 'log', 'debug', 'verbose'];

/**
 * Builds the service exactly as production runs it: the environment is validated first (every bad variable is
 * named, the process does not start), then the Nest application with its shutdown hooks.
 */
export async function createBridgeApp(options: BridgeOptions = {}): Promise<NestExpressApplication> {
  assertValidEnvironment(process.env);
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    // Each route reads its own body: the OpenAI webhook must see the raw bytes it was signed over.
    bodyParser: false,
    abortOnError: false,
    logger: options.logger ?? levelsUpTo(process.env.LOG_LEVEL),
  });
  app.disable('x-powered-by');
  // Every shutdown signal but SIGHUP, which reloads the tenants file (TENANTS_FILE) instead of stopping.
  app.enableShutdownHooks(Object.values(ShutdownSignal).filter((signal) => signal !== ShutdownSignal.SIGHUP));
  return app;
}

export async function startBridge(options: BridgeOptions = {}): Promise<NestExpressApplication> {
  const app = await createBridgeApp(options);
  const config = app.get<ConfigType<typeof appConfig>>(appConfig.KEY);
  await app.listen(options.port ?? config.port, config.host);
  return app;
}

function levelsUpTo(level: string | undefined): LogLevel[] {
  const index = LEVELS.indexOf((level ?? 'log') as LogLevel);
  return LEVELS.slice(0, index < 0 ? 4 : index + 1);
}

export { ConfigValidationError } from '#config';
