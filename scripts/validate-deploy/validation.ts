import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuiltService } from './service.js';

/** The repository: the nearest directory above this file with a package.json (from scripts/ or from dist/scripts/). */
export const ROOT = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})();

/** A path as the messages show it: relative to the repository when inside it, else to `base` (else as given). */
export function shownPath(file: string, base?: string): string {
  if (file.startsWith(`${ROOT}/`)) return relative(ROOT, file);
  return base === undefined ? file : relative(base, file);
}

/** One run of the validator: what it checks against, the problems it found and what it found valid. */
export class Validation {
  readonly problems: string[] = [];
  /** One line per file set that passed every check. */
  readonly checked: string[] = [];
  /** NAME → default value of every variable .env.example documents. */
  readonly documented: Map<string, string>;

  constructor(
    readonly service: BuiltService,
    envExample: string,
  ) {
    this.documented = documentedVariables(envExample, (where, message) => this.report(where, message));
  }

  report(where: string, message: string): void {
    this.problems.push(`${where}: ${message}`);
  }

  /** The port the app listens on when PORT is not set. */
  get defaultPort(): number {
    return Number(this.documented.get('PORT') || 8080);
  }
}

/** NAME → default value, for every uncommented `NAME=` line of .env.example; a missing file is a problem. */
function documentedVariables(file: string, report: (where: string, message: string) => void): Map<string, string> {
  if (!existsSync(file)) {
    report(file, 'not found: the environment the manifests set is checked against it');
    return new Map();
  }
  const names = new Map<string, string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) names.set(match[1]!, match[2]!);
  }
  return names;
}
