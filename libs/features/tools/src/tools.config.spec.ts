import { afterEach, describe, expect, it } from '@jest/globals';
import { dtmfConfig, parseKeyMap, toolsConfig, transferConfig } from './tools.config.js';
import { EnvironmentSandbox, configErrorOf } from '#testing';

const env = new EnvironmentSandbox([
  'TOOL_TIMEOUT_MS',
  'TOOLS_DISABLED',
  'END_CALL_MAX_WAIT_MS',
  'HUMAN_AGENT_NUMBER',
  'TRANSFER_SIP_URI',
  'TRANSFER_TIMEOUT_MS',
  'DTMF_INTER_DIGIT_MS',
  'DTMF_KEY_MAP',
]);

afterEach(() => env.restore());

describe('toolsConfig', () => {
  it('defaults to a 10 s tool timeout, nothing disabled, 15 s for a goodbye to play', () => {
    env.set({});
    expect(toolsConfig()).toEqual({ timeoutMs: 10_000, disabled: new Set(), endCallMaxWaitMs: 15_000 });
  });

  it('reads the disabled tools as a list', () => {
    env.set({ TOOLS_DISABLED: ' end_call , lookup_order', TOOL_TIMEOUT_MS: '2500' });
    expect(toolsConfig()).toMatchObject({ timeoutMs: 2500, disabled: new Set(['end_call', 'lookup_order']) });
  });

  it('names bad values', () => {
    env.set({ TOOL_TIMEOUT_MS: '10s', TOOLS_DISABLED: 'end call', END_CALL_MAX_WAIT_MS: '5' });
    expect(configErrorOf(() => toolsConfig()).problems.map((p) => p.variable).sort()).toEqual([
      'END_CALL_MAX_WAIT_MS',
      'TOOLS_DISABLED',
      'TOOL_TIMEOUT_MS',
    ]);
  });
});

describe('transferConfig', () => {
  it('has no target by default (transfer_to_human is then not offered)', () => {
    env.set({});
    expect(transferConfig()).toEqual({ humanAgentNumber: undefined, targetUri: undefined, timeoutMs: 20_000 });
  });

  it('refers to tel:HUMAN_AGENT_NUMBER, or to TRANSFER_SIP_URI when that is set', () => {
    env.set({ HUMAN_AGENT_NUMBER: '+14155550100' });
    expect(transferConfig().targetUri).toBe('tel:+14155550100');
    env.set({ HUMAN_AGENT_NUMBER: '+14155550100', TRANSFER_SIP_URI: 'sip:desk@pbx.example.com;transport=tls' });
    expect(transferConfig().targetUri).toBe('sip:desk@pbx.example.com;transport=tls');
  });

  it.each([
    ['HUMAN_AGENT_NUMBER', '4155550100'],
    ['HUMAN_AGENT_NUMBER', '+1 415 555 0100'],
    ['TRANSFER_SIP_URI', 'tel:+14155550100'],
    ['TRANSFER_SIP_URI', 'sip:no-host'],
    ['TRANSFER_TIMEOUT_MS', '100'],
  ])('refuses %s=%s', (variable, value) => {
    env.set({ [variable]: value });
    expect(configErrorOf(() => transferConfig()).problems.map((p) => p.variable)).toEqual([variable]);
  });
});

describe('dtmfConfig', () => {
  it('defaults to a 1.5 s inter-digit pause and no key map', () => {
    env.set({});
    expect(dtmfConfig()).toEqual({ interDigitMs: 1500, keyMap: new Map() });
  });

  it('reads the key map', () => {
    env.set({ DTMF_KEY_MAP: '0:transfer_to_human, *:end_call,a:lookup_order' });
    expect([...dtmfConfig().keyMap]).toEqual([
      ['0', 'transfer_to_human'],
      ['*', 'end_call'],
      ['A', 'lookup_order'],
    ]);
  });

  it.each(['0', '0:', 'E:end_call', '0:end call', '0:end_call,0:transfer_to_human', '10:end_call'])(
    'refuses the key map %s',
    (value) => {
      env.set({ DTMF_KEY_MAP: value });
      expect(configErrorOf(() => dtmfConfig()).problems.map((p) => p.variable)).toEqual(['DTMF_KEY_MAP']);
    },
  );

  it('parses an empty map', () => {
    expect(parseKeyMap('')).toEqual(new Map());
  });
});
