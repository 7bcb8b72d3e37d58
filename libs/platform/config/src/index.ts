export { defineConfig, assertValidEnvironment, ConfigValidationError, type ConfigProblem, type ConfigType } from './define-config.js';
export { appConfig } from './app.config.js';
