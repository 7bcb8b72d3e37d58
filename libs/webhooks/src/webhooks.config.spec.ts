import { afterEach, describe, expect, it } from '@jest/globals';
import { ConfigValidationError } from '#config';
import { webhooksConfig } from './webhooks.config.js';

const VARIABLES = ['OPENAI_WEBHOOK_SECRET', 'WEBHOOK_MAX_BODY_BYTES', 'WEBHOOK_TOLERANCE_SECONDS'];
const saved = Object.fromEntries(VARIABLES.map((name) => [name, process.env[name]]));

function setEnv(values: Record<string, string>): void {
  for (const name of VARIABLES) delete process.env[name];
  Object.assign(process.env, values);
}

function validationError(run: () => unknown): ConfigValidationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigValidationError);
    return error as ConfigValidationError;
  }
  throw new Error('expected a ConfigValidationError, nothing was thrown');
}

afterEach(() => {
  for (const name of VARIABLES) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

const SECRET = 'whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c=';

describe('webhooksConfig', () => {
  it('accepts a whsec_ secret with a base64 key and applies the defaults', () => {
    setEnv({ OPENAI_WEBHOOK_SECRET: SECRET });
    expect(webhooksConfig()).toEqual({ secrets: [SECRET], maxBodyBytes: 256 * 1024, toleranceSeconds: 300 });
  });

  it('accepts a raw secret without the whsec_ prefix', () => {
    setEnv({ OPENAI_WEBHOOK_SECRET: 'plain-shared-secret' });
    expect(webhooksConfig().secrets).toEqual(['plain-shared-secret']);
  });

  it('splits a comma-separated list for rotation and trims each secret', () => {
    setEnv({ OPENAI_WEBHOOK_SECRET: ` ${SECRET} ,  whsec_b2xkLXNlY3JldA== , raw-one ` });
    expect(webhooksConfig().secrets).toEqual([SECRET, 'whsec_b2xkLXNlY3JldA==', 'raw-one']);
  });

  it('reports a missing secret as "must be set"', () => {
    setEnv({});
    expect(validationError(() => webhooksConfig()).problems).toEqual([
      { variable: 'OPENAI_WEBHOOK_SECRET', problems: ['must be set'] },
    ]);
  });

  it.each([
    ['the prefix alone', 'whsec_'],
    ['a prefix followed by non-base64', 'whsec_not*base64'],
    ['an empty entry in the list', 'a,,b'],
    ['a trailing comma', `${SECRET},`],
    ['one bad entry among good ones', `${SECRET}, whsec_`],
  ])('rejects %s without echoing the value', (_label, value) => {
    setEnv({ OPENAI_WEBHOOK_SECRET: value });
    const error = validationError(() => webhooksConfig());
    expect(error.problems.map((p) => p.variable)).toEqual(['OPENAI_WEBHOOK_SECRET']);
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain('not*base64');
  });

  it('converts and bounds the numeric settings', () => {
    setEnv({ OPENAI_WEBHOOK_SECRET: SECRET, WEBHOOK_MAX_BODY_BYTES: '2048', WEBHOOK_TOLERANCE_SECONDS: '60' });
    expect(webhooksConfig()).toMatchObject({ maxBodyBytes: 2048, toleranceSeconds: 60 });

    setEnv({ OPENAI_WEBHOOK_SECRET: SECRET, WEBHOOK_MAX_BODY_BYTES: '10', WEBHOOK_TOLERANCE_SECONDS: '0' });
    const error = validationError(() => webhooksConfig());
    expect(error.problems.map((p) => p.variable).sort()).toEqual(['WEBHOOK_MAX_BODY_BYTES', 'WEBHOOK_TOLERANCE_SECONDS']);
  });
});
