// Jest runs the TypeScript sources as native ES modules (node --experimental-vm-modules, see package.json).
// `#lib` imports resolve to each library's source entry point, exactly as the `source` condition does for tsc.
import { readFileSync } from 'node:fs';

const { imports } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const libraries = Object.fromEntries(
  Object.entries(imports).map(([name, target]) => [`^${name}$`, `<rootDir>/${target.source.slice(2)}`]),
);

const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  moduleNameMapper: { ...libraries, '^(\\.{1,2}/.*)\\.js$': '$1' },
};

export default {
  // Jest 29 reads the timeout only here, not per project.
  testTimeout: 30000,
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts'] },
    {
      ...shared,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      // The bridge's log output of the whole run is scanned for secrets, phone numbers and transcript text.
      globalSetup: '<rootDir>/test/support/log-scan.setup.mjs',
      globalTeardown: '<rootDir>/test/support/log-scan.teardown.mjs',
    },
  ],
};
