import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';

/**
 * The layout is the architecture, and this spec keeps it so: which library may import which (the table of
 * docs/architecture.md), platform never importing a feature, no cycles, no deep imports, no relative import out of
 * a library, and no spec reaching into test/.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

type Group = 'platform' | 'features' | 'testkit';

/** What each library's non-spec code may import (besides itself). Widen it here, on purpose, or not at all. */
const MAY_IMPORT: Record<string, string[]> = {
  // platform: plumbing, no product knowledge
  config: [],
  events: ['resilience'],
  http: [],
  auth: ['config', 'http', 'resilience'],
  resilience: [],
  health: ['config', 'resilience'],
  logging: ['config'],
  metrics: ['config', 'events'],
  twilio: ['config'],
  storage: ['config', 'events', 'health', 'resilience'],
  // features: what the service does
  calls: ['config', 'events', 'health', 'http', 'metrics', 'resilience', 'storage'],
  tools: ['calls', 'config', 'events', 'resilience', 'storage'],
  transcripts: ['config', 'events', 'storage'],
  notifications: ['config', 'events', 'health', 'metrics', 'resilience', 'storage', 'transcripts'],
  conference: ['calls', 'config', 'events', 'resilience', 'storage', 'tools', 'twilio'],
  tenants: ['calls', 'config', 'events', 'notifications', 'resilience', 'tools'],
  webhooks: ['calls', 'conference', 'config', 'health', 'http', 'metrics', 'storage', 'tenants', 'twilio'],
  'order-lookup': ['config', 'tools'],
  console: ['auth', 'config', 'events', 'resilience', 'storage', 'transcripts'],
  // testkit: fakes and helpers for tests and the demo
  emulator: ['resilience'],
  testing: ['config', 'resilience', 'storage'],
};

interface Library {
  name: string;
  group: Group;
  dir: string;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? walk(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function libraries(): Library[] {
  return (['platform', 'features', 'testkit'] as const).flatMap((group) =>
    readdirSync(join(ROOT, 'libs', group)).map((name) => ({ name, group, dir: join(ROOT, 'libs', group, name) })),
  );
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  return [...source.matchAll(IMPORT)].map((match) => match[1] ?? match[2]!);
}

const libs = libraries();
const groupOf = new Map(libs.map((lib) => [lib.name, lib.group]));

/** `name → the #libraries its non-spec code imports`. */
function dependencyGraph(): Map<string, Set<string>> {
  return new Map(
    libs.map((lib) => {
      const used = new Set<string>();
      for (const file of walk(lib.dir).filter((path) => !path.endsWith('.spec.ts'))) {
        for (const specifier of importsOf(file)) {
          const name = specifier.startsWith('#') ? specifier.slice(1) : undefined;
          if (name && name !== lib.name) used.add(name);
        }
      }
      return [lib.name, used];
    }),
  );
}

describe('the layout', () => {
  const graph = dependencyGraph();

  it('lists every library in the table, and only those', () => {
    expect(Object.keys(MAY_IMPORT).sort()).toEqual(libs.map((lib) => lib.name).sort());
    const packageImports = Object.keys(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).imports as object);
    for (const lib of libs) expect(packageImports).toContain(`#${lib.name}`);
  });

  it.each(libs.map((lib) => [lib.name]))('%s imports only what the table allows', (name) => {
    const extra = [...graph.get(name)!].filter((used) => !MAY_IMPORT[name]!.includes(used));
    expect(extra).toEqual([]);
  });

  it('platform imports no feature and no test kit', () => {
    const offending = libs
      .filter((lib) => lib.group === 'platform')
      .flatMap((lib) => [...graph.get(lib.name)!].filter((used) => groupOf.get(used) !== 'platform').map((used) => `${lib.name} → ${used}`));
    expect(offending).toEqual([]);
  });

  it('has no import cycle between libraries', () => {
    const cycles: string[] = [];
    const visit = (name: string, path: string[]) => {
      if (path.includes(name)) return void cycles.push([...path.slice(path.indexOf(name)), name].join(' → '));
      for (const next of graph.get(name) ?? []) visit(next, [...path, name]);
    };
    for (const lib of libs) visit(lib.name, []);
    expect(cycles).toEqual([]);
  });

  it('imports other libraries only through #name (no deep import, no relative path out of a library)', () => {
    const offending: string[] = [];
    for (const lib of libs) {
      for (const file of walk(lib.dir)) {
        for (const specifier of importsOf(file)) {
          if (specifier.startsWith('#') && specifier.includes('/')) offending.push(`${relative(ROOT, file)}: ${specifier}`);
          if (specifier.startsWith('.') && relative(lib.dir, resolve(dirname(file), specifier)).startsWith('..')) {
            offending.push(`${relative(ROOT, file)}: ${specifier}`);
          }
        }
      }
    }
    expect(offending).toEqual([]);
  });

  it('keeps test helpers out of test/: no spec or library imports from it', () => {
    const offending = [...walk(join(ROOT, 'libs')), ...walk(join(ROOT, 'apps')), ...walk(join(ROOT, 'bench'))].flatMap((file) =>
      importsOf(file)
        .filter((specifier) => specifier.startsWith('.') && relative(ROOT, resolve(dirname(file), specifier)).startsWith('test'))
        .map((specifier) => `${relative(ROOT, file)}: ${specifier}`),
    );
    expect(offending).toEqual([]);
  });
});
