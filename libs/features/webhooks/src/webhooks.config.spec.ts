import { afterEach, describe, expect, it } from '@jest/globals';
import { webhooksConfig } from './webhooks.config.js';
import { EnvironmentSandbox, configErrorOf } from '#testing';

const VARIABLES = ['OPENAI_WEBHOOK_SECRET', 'WEBHOOK_MAX_BODY_BYTES', 'WEBHOOK_TOLERANCE_SECONDS'];
const env = new EnvironmentSandbox(VARIABLES);

afterEach(() => env.restore());

const SECRET = 'whsec_RdvaYFYUXuIFuEbvZHwMfYFhUf7aMYjYcmM24+Aj40c=';

describe('webhooksConfig', () => {
  it('accepts a whsec_ secret with a base64 key and applies the defaults', () => {
    env.set({ OPENAI_WEBHOOK_SECRET: SECRET });
    expect(webhooksConfig()).toEqual({ secrets: [SECRET], maxBodyBytes: 256 * 1024, toleranceSeconds: 300 });
  });

  it('accepts a raw secret without the whsec_ prefix', () => {
    env.set({ OPENAI_WEBHOOK_SECRET: 'plain-shared-secret' });
    expect(webhooksConfig().secrets).toEqual(['plain-shared-secret']);
  });

  it('splits a comma-separated list for rotation and trims each secret', () => {
    env.set({ OPENAI_WEBHOOK_SECRET: ` ${SECRET} ,  whsec_b2xkLXNlY3JldA== , raw-one ` });
    expect(webhooksConfig().secrets).toEqual([SECRET, 'whsec_b2xkLXNlY3JldA==', 'raw-one']);
  });

  it('reports a missing secret as "must be set"', () => {
    env.set({});
    expect(configErrorOf(() => webhooksConfig()).problems).toEqual([
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
    env.set({ OPENAI_WEBHOOK_SECRET: value });
    const error = configErrorOf(() => webhooksConfig());
    expect(error.problems.map((p) => p.variable)).toEqual(['OPENAI_WEBHOOK_SECRET']);
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain('not*base64');
  });

  it('converts and bounds the numeric settings', () => {
    env.set({ OPENAI_WEBHOOK_SECRET: SECRET, WEBHOOK_MAX_BODY_BYTES: '2048', WEBHOOK_TOLERANCE_SECONDS: '60' });
    expect(webhooksConfig()).toMatchObject({ maxBodyBytes: 2048, toleranceSeconds: 60 });

    env.set({ OPENAI_WEBHOOK_SECRET: SECRET, WEBHOOK_MAX_BODY_BYTES: '10', WEBHOOK_TOLERANCE_SECONDS: '0' });
    const error = configErrorOf(() => webhooksConfig());
    expect(error.problems.map((p) => p.variable).sort()).toEqual(['WEBHOOK_MAX_BODY_BYTES', 'WEBHOOK_TOLERANCE_SECONDS']);
  });
});
