import 'reflect-metadata';
import type { LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module.js';
import { appConfig, assertValidEnvironment, type ConfigType } from '#config';
import { Lifecycle } from '#health';
import { BridgeLogger, createBridgeLogger, httpLogging } from '#logging';

/** The composition root, also for tools that inspect the application without starting it (validate:deploy). */
export { AppModule };

export interface BridgeOptions {
  /**
   * The logger: by default the service's JSON logger as LOG_LEVEL / LOG_PII / LOG_FORMAT configure it. A
   * `BridgeLogger` (tests capture lines in a file) also logs HTTP requests; Nest log levels or false (silent) do not.
   */
  logger?: LoggerService | LogLevel[] | false;
  /** Listen on this port instead of PORT (0: any free port). */
  port?: number;
  /** Where the default logger writes instead of stdout (tests capture the lines). */
  logDestination?: DestinationStream;
}

/**
 * Builds the service exactly as production runs it: the environment is validated first (every bad variable is
 * named, the process does not start), then the Nest application. Stopping is `app.close()`, or SIGTERM/SIGINT
 * with `handleSignals` (drain first).
 */
export async function createBridgeApp(options: BridgeOptions = {}): Promise<NestExpressApplication> {
  assertValidEnvironment(process.env);
  const logger = options.logger ?? (await createBridgeLogger(process.env, options.logDestination));
  const app = await NestFactory.create<NestExpressApplication>(AppModule, {
    // Each route reads its own body: the OpenAI webhook must see the raw bytes it was signed over.
    bodyParser: false,
    abortOnError: false,
    logger,
  });
  if (logger instanceof BridgeLogger) app.use(httpLogging(logger));
  app.disable('x-powered-by');
  app.set('trust proxy', app.get<ConfigType<typeof appConfig>>(appConfig.KEY).trustProxy);
  return app;
}

export async function startBridge(options: BridgeOptions = {}): Promise<NestExpressApplication> {
  const app = await createBridgeApp(options);
  const config = app.get<ConfigType<typeof appConfig>>(appConfig.KEY);
  await app.listen(options.port ?? config.port, config.host);
  return app;
}

/**
 * Graceful stop on SIGTERM (Kubernetes) and SIGINT (a terminal): readiness fails at once and new calls are turned
 * away (503, so OpenAI retries them on another replica) while the calls in progress run to their end, for at most
 * SHUTDOWN_DRAIN_SECONDS; then the application closes (remaining sessions closed, outbox flushed) and the process
 * exits 0. A second signal skips what is left of the drain.
 */
export function handleSignals(app: NestExpressApplication, exit: (code: number) => void = (code) => process.exit(code)): void {
  const lifecycle = app.get(Lifecycle);
  let stopping: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      lifecycle.endDrain(`${signal} again`);
      return;
    }
    stopping = (async () => {
      let code = 0;
      try {
        await lifecycle.drain(signal);
        await app.close();
      } catch (error) {
        app.get(Lifecycle).reportShutdownFailure(error);
        code = 1;
      }
      exit(code);
    })();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

export { ConfigValidationError } from '#config';
