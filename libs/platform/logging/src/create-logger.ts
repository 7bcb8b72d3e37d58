import type { DestinationStream } from 'pino';
import { BridgeLogger } from './bridge-logger.js';
import { loggingConfig } from './logging.config.js';
import { Redactor } from './redactor.js';

/**
 * The service's logger as the environment configures it (LOG_LEVEL, LOG_PII, LOG_FORMAT), removing the values of
 * every secret variable in `env`. `destination` replaces stdout (tests capture lines in a file).
 */
export async function createBridgeLogger(
  env: Record<string, string | undefined> = process.env,
  destination?: DestinationStream,
): Promise<BridgeLogger> {
  const config = loggingConfig();
  let output = destination;
  if (!output && config.format === 'pretty') {
    let pretty: typeof import('pino-pretty').build;
    try {
      pretty = (await import('pino-pretty')).build;
    } catch {
      throw new Error('LOG_FORMAT=pretty needs the pino-pretty package (a development dependency); use LOG_FORMAT=json');
    }
    output = pretty({ sync: true, colorize: process.stdout.isTTY, ignore: 'pid,hostname', messageKey: 'msg', singleLine: true });
  }
  return new BridgeLogger({
    level: config.level,
    pii: config.pii,
    secrets: Redactor.secretsIn(env),
    ...(output ? { destination: output } : {}),
  });
}
