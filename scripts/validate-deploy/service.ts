import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Type } from '@nestjs/common';
import { ROOT } from './validation.js';

/**
 * The service's own code, from the build: outside the TypeScript sources the package's `#…` imports resolve to
 * dist/. The tenants file is loaded by the loader the service runs, the tools are the ones its registry finds, and
 * what the service refuses to start without is what its configuration says.
 */
export interface BuiltService {
  tenants: typeof import('#tenants');
  calls: typeof import('#calls');
  tools: typeof import('#tools');
  config: typeof import('#config');
  /** The composition root: every module, provider and tool of the application. */
  appModule: Type;
  /** The variables the service does not start without: its configuration's "must be set" on an empty environment. */
  requiredVariables: string[];
}

const SPECIFIERS = ['#tenants', '#calls', '#tools', '#config', '#bridge'] as const;

/** The service from dist/; undefined (and the reason printed) when it has not been built. */
export async function loadBuiltService(): Promise<BuiltService | undefined> {
  const missing = SPECIFIERS.map((specifier) => fileURLToPath(import.meta.resolve(specifier))).filter((file) => !existsSync(file));
  if (missing.length > 0) {
    console.error(
      `✗ ${missing.map((file) => relative(ROOT, file)).join(', ')} not found: run npm run build first ` +
        "(the tenants file is checked with the service's own loader, from the build)",
    );
    return undefined;
  }
  const [tenants, calls, tools, config, bridge] = await Promise.all([
    import('#tenants'),
    import('#calls'),
    import('#tools'),
    import('#config'),
    import('#bridge'),
  ]);
  return { tenants, calls, tools, config, appModule: bridge.AppModule, requiredVariables: requiredVariables(config) };
}

function requiredVariables(config: typeof import('#config')): string[] {
  try {
    config.assertValidEnvironment({});
    return [];
  } catch (error) {
    if (!(error instanceof config.ConfigValidationError)) throw error;
    return error.problems.filter((problem) => problem.problems.includes('must be set')).map((problem) => problem.variable);
  }
}
