import { describe, expect, it } from '@jest/globals';
import { buildAcceptPayload } from './accept-payload.js';
import type { AgentProfile } from './agent-profile.js';

const transferTool = {
  type: 'function' as const,
  name: 'transfer_to_human',
  description: 'Transfer the caller to a person.',
  parameters: { type: 'object', properties: {}, required: [] },
};

function profile(overrides: Partial<AgentProfile> = {}): AgentProfile {
  return {
    name: 'default',
    model: 'gpt-realtime',
    instructions: 'You are a phone agent.',
    voice: 'marin',
    transcription: { model: 'gpt-4o-mini-transcribe', language: 'en' },
    turnDetection: 'semantic_vad',
    tools: [],
    ...overrides,
  };
}

/** Every key anywhere in a JSON-able value, however deep. */
function allKeys(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(allKeys);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, child]) => [key, ...allKeys(child)]);
}

describe('buildAcceptPayload', () => {
  it('builds the documented SIP accept body for a full profile', () => {
    expect(buildAcceptPayload(profile({ tools: [transferTool] }))).toEqual({
      type: 'realtime',
      model: 'gpt-realtime',
      instructions: 'You are a phone agent.',
      output_modalities: ['audio'],
      audio: {
        input: {
          transcription: { model: 'gpt-4o-mini-transcribe', language: 'en' },
          turn_detection: { type: 'semantic_vad', eagerness: 'auto', create_response: true, interrupt_response: true },
        },
        output: { voice: 'marin' },
      },
      tools: [transferTool],
      tool_choice: 'auto',
    });
  });

  it.each(['semantic_vad', 'server_vad'] as const)(
    'never sends VAD tuning fields or an audio format with %s',
    (turnDetection) => {
      const payload = buildAcceptPayload(profile({ turnDetection }));
      const keys = allKeys(payload);
      for (const forbidden of ['threshold', 'prefix_padding_ms', 'silence_duration_ms', 'format']) {
        expect(keys).not.toContain(forbidden);
      }
      expect(payload.audio?.input?.turn_detection).toMatchObject({
        type: turnDetection,
        create_response: true,
        interrupt_response: true,
      });
    },
  );

  it('sends server_vad with only type, create_response and interrupt_response', () => {
    expect(buildAcceptPayload(profile({ turnDetection: 'server_vad' })).audio?.input?.turn_detection).toEqual({
      type: 'server_vad',
      create_response: true,
      interrupt_response: true,
    });
  });

  it('omits transcription entirely when the profile has none', () => {
    const payload = buildAcceptPayload(profile({ transcription: undefined }));
    expect(payload.audio?.input).not.toHaveProperty('transcription');
    expect(allKeys(payload)).not.toContain('transcription');
  });

  it('omits the language when the profile does not set one', () => {
    for (const transcription of [{ model: 'whisper-1' }, { model: 'whisper-1', language: undefined }, { model: 'whisper-1', language: '' }]) {
      const payload = buildAcceptPayload(profile({ transcription }));
      expect(payload.audio?.input?.transcription).toEqual({ model: 'whisper-1' });
    }
  });

  it('omits tools and tool_choice when the profile has no tools', () => {
    const payload = buildAcceptPayload(profile({ tools: [] }));
    expect(payload).not.toHaveProperty('tools');
    expect(payload).not.toHaveProperty('tool_choice');
  });

  it('sends every tool with tool_choice auto when the profile has tools', () => {
    const hangUp = { type: 'function' as const, name: 'hang_up', parameters: { type: 'object', properties: {} } };
    const payload = buildAcceptPayload(profile({ tools: [transferTool, hangUp] }));
    expect(payload.tools).toEqual([transferTool, hangUp]);
    expect(payload.tool_choice).toBe('auto');
  });

  it('always says type realtime and carries model, instructions and voice from the profile', () => {
    for (const p of [
      profile(),
      profile({ model: 'gpt-realtime-mini', instructions: 'Be brief.', voice: 'cedar', turnDetection: 'server_vad' }),
      profile({ transcription: undefined, tools: [transferTool] }),
    ]) {
      const payload = buildAcceptPayload(p);
      expect(payload.type).toBe('realtime');
      expect(payload.model).toBe(p.model);
      expect(payload.instructions).toBe(p.instructions);
      expect(payload.audio?.output).toEqual({ voice: p.voice });
    }
  });

  it('does not leak profile-only fields such as name or welcomeMessage', () => {
    const payload = buildAcceptPayload(profile({ name: 'acme-night', welcomeMessage: 'Hi there' }));
    const text = JSON.stringify(payload);
    expect(text).not.toContain('acme-night');
    expect(text).not.toContain('Hi there');
  });
});
