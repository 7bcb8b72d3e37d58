import { afterEach, describe, expect, it } from '@jest/globals';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Min } from 'class-validator';
import { assertValidEnvironment, ConfigValidationError, defineConfig } from './define-config.js';
import { EnvironmentSandbox, configErrorOf } from '#testing';

// Variable names are prefixed so that nothing in the real environment can collide with them.
class TestEnv {
  @IsString()
  @Matches(/^sk-[a-z0-9]+$/, { message: 'must look like an API key' })
  DCTEST_API_KEY!: string;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  DCTEST_RETRIES = 3;

  @IsOptional()
  @IsString()
  DCTEST_GREETING?: string;

  @IsIn(['fast', 'slow'])
  DCTEST_MODE: 'fast' | 'slow' = 'fast';
}

const testConfig = defineConfig('testns', TestEnv, (env) => ({
  apiKey: env.DCTEST_API_KEY,
  retries: env.DCTEST_RETRIES,
  greeting: env.DCTEST_GREETING ?? 'hello',
  mode: env.DCTEST_MODE,
}));

const VARIABLES = ['DCTEST_API_KEY', 'DCTEST_RETRIES', 'DCTEST_GREETING', 'DCTEST_MODE'] as const;
const env = new EnvironmentSandbox(VARIABLES);

afterEach(() => env.restore());

describe('assertValidEnvironment', () => {
  it('accepts an environment where every required variable is set and the rest default', () => {
    expect(() => assertValidEnvironment({ DCTEST_API_KEY: 'sk-abc' })).not.toThrow();
  });

  it('reports a missing required variable as "must be set"', () => {
    const error = configErrorOf(() => assertValidEnvironment({}));
    expect(error.problems).toEqual([{ variable: 'DCTEST_API_KEY', problems: ['must be set'] }]);
    expect(error.message).toContain('DCTEST_API_KEY: must be set');
  });

  it('names every bad variable in one error, one "NAME: problem" line each', () => {
    const error = configErrorOf(() =>
      assertValidEnvironment({ DCTEST_RETRIES: 'many', DCTEST_MODE: 'turbo', DCTEST_GREETING: 'hi' }),
    );
    expect(error.problems.map((p) => p.variable).sort()).toEqual(['DCTEST_API_KEY', 'DCTEST_MODE', 'DCTEST_RETRIES']);
    expect(error.message).toMatch(/^Invalid configuration/);
    expect(error.message).toMatch(/^ {2}- DCTEST_API_KEY: must be set$/m);
    expect(error.message).toMatch(/^ {2}- DCTEST_RETRIES: .+$/m);
    expect(error.message).toMatch(/^ {2}- DCTEST_MODE: .+$/m);
    expect(error.message).not.toContain('DCTEST_GREETING');
  });

  it('describes the problem without repeating the variable name as a prefix', () => {
    const error = configErrorOf(() => assertValidEnvironment({ DCTEST_API_KEY: 'sk-abc', DCTEST_RETRIES: '0' }));
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0].variable).toBe('DCTEST_RETRIES');
    expect(error.problems[0].problems.length).toBeGreaterThan(0);
    for (const problem of error.problems[0].problems) expect(problem.startsWith('DCTEST_RETRIES')).toBe(false);
  });

  it('never puts an invalid value in the message', () => {
    const secret = 'SuperSecretValue-9f8e7d6c5b4a';
    const error = configErrorOf(() =>
      assertValidEnvironment({ DCTEST_API_KEY: secret, DCTEST_MODE: `${secret}-mode`, DCTEST_RETRIES: `${secret}7` }),
    );
    expect(error.problems.map((p) => p.variable).sort()).toEqual(['DCTEST_API_KEY', 'DCTEST_MODE', 'DCTEST_RETRIES']);
    expect(error.message).not.toContain(secret);
    expect(JSON.stringify(error.problems)).not.toContain(secret);
  });

  it('treats empty and whitespace-only values as unset, so defaults apply and required ones are missing', () => {
    expect(() =>
      assertValidEnvironment({ DCTEST_API_KEY: 'sk-abc', DCTEST_RETRIES: '', DCTEST_MODE: '   ', DCTEST_GREETING: '\t' }),
    ).not.toThrow();
    const error = configErrorOf(() => assertValidEnvironment({ DCTEST_API_KEY: '  \t ' }));
    expect(error.problems).toEqual([{ variable: 'DCTEST_API_KEY', problems: ['must be set'] }]);
  });

  it('trims surrounding whitespace before validating', () => {
    expect(() => assertValidEnvironment({ DCTEST_API_KEY: '  sk-abc  ', DCTEST_RETRIES: ' 5 ' })).not.toThrow();
  });

  it('ignores variables that no schema declares', () => {
    expect(() => assertValidEnvironment({ DCTEST_API_KEY: 'sk-abc', SOMETHING_ELSE: '!!!' })).not.toThrow();
  });
});

describe('defineConfig', () => {
  it('returns a registerAs factory keyed by its namespace', () => {
    expect(typeof testConfig).toBe('function');
    expect(testConfig.KEY).toBe('CONFIGURATION(testns)');
  });

  it('builds the typed object from process.env, with numbers converted and defaults applied', () => {
    env.set({ DCTEST_API_KEY: ' sk-abc ', DCTEST_RETRIES: '7', DCTEST_MODE: '' });
    expect(testConfig()).toEqual({ apiKey: 'sk-abc', retries: 7, greeting: 'hello', mode: 'fast' });
  });

  it('uses the declared defaults when the variables are absent', () => {
    env.set({ DCTEST_API_KEY: 'sk-abc', DCTEST_GREETING: 'welcome' });
    expect(testConfig()).toEqual({ apiKey: 'sk-abc', retries: 3, greeting: 'welcome', mode: 'fast' });
  });

  it('throws ConfigValidationError naming the bad variables when process.env is invalid', () => {
    env.set({ DCTEST_RETRIES: '2.5', DCTEST_MODE: 'slow' });
    const error = configErrorOf(() => testConfig());
    expect(error.problems.map((p) => p.variable).sort()).toEqual(['DCTEST_API_KEY', 'DCTEST_RETRIES']);
    expect(error.name).toBe('ConfigValidationError');
  });
});

describe('ConfigValidationError', () => {
  it('keeps the problems and formats one line per variable', () => {
    const error = new ConfigValidationError([
      { variable: 'A', problems: ['must be set'] },
      { variable: 'B', problems: ['must be an integer', 'must not be less than 1'] },
    ]);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe(
      'Invalid configuration, the service cannot start:\n  - A: must be set\n  - B: must be an integer; must not be less than 1',
    );
  });
});
