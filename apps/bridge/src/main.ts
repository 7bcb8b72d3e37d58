import { existsSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { ConfigValidationError, handleSignals, startBridge } from './bootstrap.js';

// Variables already in the environment win over the .env file (Kubernetes sets them directly).
if (existsSync('.env')) process.loadEnvFile('.env');

try {
  const app = await startBridge();
  handleSignals(app);
  new Logger('Bridge').log(`listening on ${await app.getUrl()}`);
} catch (error) {
  if (error instanceof ConfigValidationError) {
    console.error(error.message);
  } else {
    console.error('The service failed to start:', error instanceof Error ? error.message : error);
  }
  process.exit(1);
}
