import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Logger } from '@nestjs/common';
import { ConfigValidationError, handleSignals, startBridge } from './bootstrap.js';
import { singleCpuGcAdvice } from './runtime-advice.js';

// Variables already in the environment win over the .env file (Kubernetes sets them directly).
if (existsSync('.env')) process.loadEnvFile('.env');

try {
  const app = await startBridge();
  handleSignals(app);
  const logger = new Logger('Bridge');
  logger.log(`listening on ${await app.getUrl()}`);
  const advice = singleCpuGcAdvice(availableParallelism(), process.execArgv);
  if (advice) logger.warn(advice);
} catch (error) {
  if (error instanceof ConfigValidationError) {
    console.error(error.message);
  } else {
    console.error('The service failed to start:', error instanceof Error ? error.message : error);
  }
  process.exit(1);
}
