import { registerAs, type ConfigType } from '@nestjs/config';
import { plainToInstance, type ClassConstructor } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';

/** One bad environment variable: its name and what is wrong with it (never its value: it may be a secret). */
export interface ConfigProblem {
  variable: string;
  problems: string[];
}

export class ConfigValidationError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      'Invalid configuration, the service cannot start:\n' +
        problems.map((p) => `  - ${p.variable}: ${p.problems.join('; ')}`).join('\n'),
    );
    this.name = 'ConfigValidationError';
  }
}

type Env = Record<string, string | undefined>;

/** Every schema any library declared; the bootstrap validates the environment against all of them at once. */
const schemas = new Set<ClassConstructor<object>>();

function collectProblems(errors: ValidationError[], present: Env): ConfigProblem[] {
  return errors.map((e) => ({
    variable: e.property,
    problems:
      present[e.property] === undefined
        ? ['must be set']
        : Object.values(e.constraints ?? {}).map((m) =>
            m.startsWith(`${e.property} `) ? m.slice(e.property.length + 1) : m,
          ),
  }));
}

/** Reads the variables a schema declares; empty strings count as unset so `FOO=` in a .env file means "default". */
function parse<T extends object>(schema: ClassConstructor<T>, env: Env): { value: T; problems: ConfigProblem[] } {
  const present: Env = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v.trim() !== '') present[k] = v.trim();
  const value = plainToInstance(schema, present, { exposeDefaultValues: true });
  const errors = validateSync(value, { whitelist: true, forbidUnknownValues: false });
  return { value, problems: collectProblems(errors, present) };
}

/**
 * Declares a library's configuration namespace: a class-validator schema whose property names are the
 * environment variables, and a mapping to the typed object the library injects (`ConfigType<typeof x>`).
 */
export function defineConfig<K extends string, S extends object, C extends Record<string, unknown>>(
  key: K,
  schema: ClassConstructor<S>,
  build: (env: S) => C,
) {
  schemas.add(schema);
  return registerAs(key, (): C => {
    const { value, problems } = parse(schema, process.env);
    if (problems.length > 0) throw new ConfigValidationError(problems);
    return build(value);
  });
}

/** Validates `env` against every declared schema and reports every bad variable in one error. */
export function assertValidEnvironment(env: Env = process.env): void {
  const problems = [...schemas].flatMap((schema) => parse(schema, env).problems);
  if (problems.length > 0) throw new ConfigValidationError(problems);
}

export type { ConfigType };
