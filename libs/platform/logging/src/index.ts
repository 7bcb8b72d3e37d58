export { BridgeLogger, requestScope, type BridgeLoggerOptions, type NestLogLevel, type RequestScope } from './bridge-logger.js';
export { createBridgeLogger } from './create-logger.js';
export { httpLogging } from './http-logging.js';
export { loggingConfig } from './logging.config.js';
export { Redactor } from './redactor.js';
