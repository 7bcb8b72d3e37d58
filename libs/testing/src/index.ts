export { EnvironmentSandbox, withEnv, configErrorOf } from './environment.js';
