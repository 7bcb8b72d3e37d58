import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { agentConfig, callControlConfig, DEFAULT_INSTRUCTIONS, openaiConfig } from './calls.config.js';
import { EnvironmentSandbox, configErrorOf } from '#testing';

const VARIABLES = [
  'OPENAI_API_KEY',
  'OPENAI_BASE_URL',
  'OPENAI_MODEL',
  'OPENAI_VOICE',
  'WELCOME_MESSAGE',
  'AGENT_INSTRUCTIONS',
  'AGENT_INSTRUCTIONS_FILE',
  'INPUT_TRANSCRIPTION_MODEL',
  'INPUT_TRANSCRIPTION_LANGUAGE',
  'TURN_DETECTION',
  'ACCEPT_TIMEOUT_MS',
  'SIDEBAND_HANDSHAKE_ATTEMPTS',
  'SIDEBAND_HANDSHAKE_BACKOFF_MS',
  'SIDEBAND_PING_INTERVAL_MS',
  'SIDEBAND_SESSION_CAP_MS',
];
const env = new EnvironmentSandbox(VARIABLES);

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'calls-config-spec-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

afterEach(() => env.restore());

describe('openaiConfig', () => {
  it('defaults the base URL to the public API', () => {
    env.set({ OPENAI_API_KEY: 'sk-test' });
    expect(openaiConfig()).toEqual({ apiKey: 'sk-test', baseUrl: 'https://api.openai.com/v1' });
  });

  it('removes trailing slashes from OPENAI_BASE_URL', () => {
    env.set({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: 'http://localhost:4010/v1//' });
    expect(openaiConfig().baseUrl).toBe('http://localhost:4010/v1');

    env.set({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: 'http://127.0.0.1:4010/' });
    expect(openaiConfig().baseUrl).toBe('http://127.0.0.1:4010');
  });

  it('requires OPENAI_API_KEY', () => {
    env.set({});
    expect(configErrorOf(() => openaiConfig()).problems).toEqual([
      { variable: 'OPENAI_API_KEY', problems: ['must be set'] },
    ]);
  });

  it('rejects a base URL that is not http(s) without echoing it', () => {
    env.set({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: 'ftp://files.example.com/secret-path' });
    const error = configErrorOf(() => openaiConfig());
    expect(error.problems.map((p) => p.variable)).toEqual(['OPENAI_BASE_URL']);
    expect(error.message).not.toContain('secret-path');
  });
});

describe('agentConfig', () => {
  it('builds the default agent when nothing is set', () => {
    env.set({});
    expect(agentConfig()).toEqual({
      model: 'gpt-realtime',
      voice: 'marin',
      welcomeMessage: undefined,
      instructions: DEFAULT_INSTRUCTIONS,
      transcription: { model: 'gpt-4o-mini-transcribe', language: undefined },
      turnDetection: 'semantic_vad',
    });
  });

  it('reads the instructions from a readable AGENT_INSTRUCTIONS_FILE, trimmed', () => {
    const file = join(dir, 'instructions.txt');
    writeFileSync(file, '\n  You are the front desk of Acme Plumbing.\n\n');
    env.set({ AGENT_INSTRUCTIONS_FILE: file });
    expect(agentConfig().instructions).toBe('You are the front desk of Acme Plumbing.');
  });

  it('prefers AGENT_INSTRUCTIONS over AGENT_INSTRUCTIONS_FILE', () => {
    const file = join(dir, 'ignored.txt');
    writeFileSync(file, 'from the file');
    env.set({ AGENT_INSTRUCTIONS: 'inline', AGENT_INSTRUCTIONS_FILE: file });
    expect(agentConfig().instructions).toBe('inline');
  });

  it('reports an AGENT_INSTRUCTIONS_FILE that does not exist as a validation error naming the variable', () => {
    env.set({ AGENT_INSTRUCTIONS_FILE: join(dir, 'does-not-exist.txt') });
    const error = configErrorOf(() => agentConfig());
    expect(error.problems).toEqual([
      { variable: 'AGENT_INSTRUCTIONS_FILE', problems: ['must be the path of a readable, non-empty file of at most 400 KB'] },
    ]);
  });

  it.each([
    ['a directory', () => dir],
    ['an empty file', () => (writeFileSync(join(dir, 'empty.txt'), ''), join(dir, 'empty.txt'))],
    ['a file over 400 KB', () => (writeFileSync(join(dir, 'huge.txt'), 'x'.repeat(401 * 1024)), join(dir, 'huge.txt'))],
  ])('reports %s as AGENT_INSTRUCTIONS_FILE as a validation error naming the variable', (_name, path) => {
    env.set({ AGENT_INSTRUCTIONS_FILE: path() });
    const error = configErrorOf(() => agentConfig());
    expect(error.problems.map((p) => p.variable)).toEqual(['AGENT_INSTRUCTIONS_FILE']);
  });

  it('turns caller transcription off with INPUT_TRANSCRIPTION_MODEL=none', () => {
    env.set({ INPUT_TRANSCRIPTION_MODEL: 'none', INPUT_TRANSCRIPTION_LANGUAGE: 'en' });
    expect(agentConfig().transcription).toBeUndefined();
  });

  it('passes the transcription model and language through', () => {
    env.set({ INPUT_TRANSCRIPTION_MODEL: 'whisper-1', INPUT_TRANSCRIPTION_LANGUAGE: 'pt-BR' });
    expect(agentConfig().transcription).toEqual({ model: 'whisper-1', language: 'pt-BR' });
  });

  it('accepts server_vad and rejects an unknown TURN_DETECTION', () => {
    env.set({ TURN_DETECTION: 'server_vad' });
    expect(agentConfig().turnDetection).toBe('server_vad');

    env.set({ TURN_DETECTION: 'bogus' });
    const error = configErrorOf(() => agentConfig());
    expect(error.problems.map((p) => p.variable)).toEqual(['TURN_DETECTION']);
    expect(error.message).not.toContain('bogus');
  });

  it('names every bad agent variable at once', () => {
    env.set({
      OPENAI_VOICE: 'Marin Voice!',
      INPUT_TRANSCRIPTION_LANGUAGE: 'english',
      TURN_DETECTION: 'bogus',
      AGENT_INSTRUCTIONS_FILE: join(dir, 'missing.txt'),
    });
    const error = configErrorOf(() => agentConfig());
    expect(error.problems.map((p) => p.variable).sort()).toEqual([
      'AGENT_INSTRUCTIONS_FILE',
      'INPUT_TRANSCRIPTION_LANGUAGE',
      'OPENAI_VOICE',
      'TURN_DETECTION',
    ]);
  });
});

describe('callControlConfig', () => {
  it('defaults to a 4 s accept budget, 5 handshake attempts, 20 s pings, a 60 min cap, no call limit and 5 s call leases', () => {
    env.set({});
    expect(callControlConfig()).toEqual({
      acceptTimeoutMs: 4000,
      handshakeAttempts: 5,
      handshakeBackoffMs: 250,
      leaseMs: 5000,
      pingIntervalMs: 20_000,
      sessionCapMs: 3_600_000,
      maxConcurrentCalls: 0,
    });
  });

  it('converts numbers and rejects out-of-range or non-integer values', () => {
    env.set({ ACCEPT_TIMEOUT_MS: '2500', SIDEBAND_PING_INTERVAL_MS: '1000' });
    expect(callControlConfig()).toMatchObject({ acceptTimeoutMs: 2500, pingIntervalMs: 1000 });

    env.set({ ACCEPT_TIMEOUT_MS: '100', SIDEBAND_HANDSHAKE_ATTEMPTS: 'three', SIDEBAND_SESSION_CAP_MS: '1.5' });
    const error = configErrorOf(() => callControlConfig());
    expect(error.problems.map((p) => p.variable).sort()).toEqual([
      'ACCEPT_TIMEOUT_MS',
      'SIDEBAND_HANDSHAKE_ATTEMPTS',
      'SIDEBAND_SESSION_CAP_MS',
    ]);
  });
});
