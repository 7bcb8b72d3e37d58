export { EnvironmentSandbox, withEnv, configErrorOf } from './environment.js';
export { TEST_DATABASE_URL, TEST_DIALECTS, createTestDatabase, failureOf, type TestDatabase } from './databases.js';
export { waitUntil } from './wait.js';
export { ManualClock, settle } from './manual-clock.js';
export { consoleSeed, type ConsoleSeed } from './console-seed.js';
