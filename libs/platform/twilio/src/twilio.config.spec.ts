import { afterEach, describe, expect, it } from '@jest/globals';
import { twilioConfig } from './twilio.config.js';
import { EnvironmentSandbox, configErrorOf } from '#testing';

const env = new EnvironmentSandbox([
  'TWILIO_ACCOUNT_SID',
  'TWILIO_AUTH_TOKEN',
  'PUBLIC_BASE_URL',
  'OPENAI_PROJECT_ID',
  'TWILIO_API_BASE_URL',
  'TWILIO_REQUEST_TIMEOUT_MS',
  'TWILIO_HUMAN_LABEL',
  'TWILIO_RING_TIMEOUT_SECONDS',
]);

const SID = `AC${'0123456789abcdef'.repeat(2)}`;
const TOKEN = 'f'.repeat(32);
const COMPLETE = { TWILIO_ACCOUNT_SID: SID, TWILIO_AUTH_TOKEN: TOKEN, PUBLIC_BASE_URL: 'https://bridge.example.com', OPENAI_PROJECT_ID: 'proj_abc123' };

afterEach(() => env.restore());

describe('twilioConfig', () => {
  it('is off by default: no account, with the documented defaults', () => {
    env.set({});
    expect(twilioConfig()).toEqual({
      account: undefined,
      apiBaseUrl: undefined,
      requestTimeoutMs: 5000,
      humanLabel: 'human agent',
      ringTimeoutSeconds: 30,
    });
  });

  it('reads the whole set, trimming the trailing slash of base URLs', () => {
    env.set({
      ...COMPLETE,
      PUBLIC_BASE_URL: 'https://bridge.example.com/phone/',
      TWILIO_API_BASE_URL: 'http://127.0.0.1:9999/',
      TWILIO_HUMAN_LABEL: 'support desk',
      TWILIO_RING_TIMEOUT_SECONDS: '20',
      TWILIO_REQUEST_TIMEOUT_MS: '2500',
    });
    expect(twilioConfig()).toEqual({
      account: { sid: SID, authToken: TOKEN, publicBaseUrl: 'https://bridge.example.com/phone', openaiProjectId: 'proj_abc123' },
      apiBaseUrl: 'http://127.0.0.1:9999',
      requestTimeoutMs: 2500,
      humanLabel: 'support desk',
      ringTimeoutSeconds: 20,
    });
  });

  it('requires the rest of the set as soon as one account variable is set, and names each missing one', () => {
    env.set({ TWILIO_ACCOUNT_SID: SID });
    expect(configErrorOf(() => twilioConfig()).problems).toEqual([
      { variable: 'TWILIO_AUTH_TOKEN', problems: ['must be set'] },
      { variable: 'PUBLIC_BASE_URL', problems: ['must be set'] },
      { variable: 'OPENAI_PROJECT_ID', problems: ['must be set'] },
    ]);
    env.set({ TWILIO_AUTH_TOKEN: TOKEN, PUBLIC_BASE_URL: 'https://bridge.example.com', OPENAI_PROJECT_ID: 'proj_x' });
    expect(configErrorOf(() => twilioConfig()).problems.map((p) => p.variable)).toEqual(['TWILIO_ACCOUNT_SID']);
  });

  it.each([
    ['TWILIO_ACCOUNT_SID', 'SK0123456789abcdef0123456789abcdef'],
    ['TWILIO_AUTH_TOKEN', 'short'],
    ['PUBLIC_BASE_URL', 'bridge.example.com'],
    ['PUBLIC_BASE_URL', 'https://bridge.example.com/?x=1'],
    ['PUBLIC_BASE_URL', 'https://user:pw@bridge.example.com'],
    ['PUBLIC_BASE_URL', 'ftp://bridge.example.com'],
    ['OPENAI_PROJECT_ID', 'project-1'],
    ['TWILIO_API_BASE_URL', 'not a url'],
    ['TWILIO_REQUEST_TIMEOUT_MS', '100'],
    ['TWILIO_RING_TIMEOUT_SECONDS', '3'],
    ['TWILIO_HUMAN_LABEL', 'virtual agent'],
    ['TWILIO_HUMAN_LABEL', 'Customer'],
    ['TWILIO_HUMAN_LABEL', '<script>'],
  ])('refuses %s=%s, naming the variable and never its value', (variable, value) => {
    env.set({ ...COMPLETE, [variable]: value });
    const error = configErrorOf(() => twilioConfig());
    expect(error.problems.map((p) => p.variable)).toEqual([variable]);
    expect(error.message).not.toContain(TOKEN);
  });

  it('checks PUBLIC_BASE_URL and OPENAI_PROJECT_ID even without an account', () => {
    env.set({ PUBLIC_BASE_URL: 'nope', OPENAI_PROJECT_ID: 'nope' });
    expect(configErrorOf(() => twilioConfig()).problems.map((p) => p.variable)).toEqual(['PUBLIC_BASE_URL', 'OPENAI_PROJECT_ID']);
  });
});
