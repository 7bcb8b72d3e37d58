import { describe, expect, it } from '@jest/globals';
import { gaEventName, isAudioDeltaFrame } from './realtime-event-names.js';

describe('gaEventName', () => {
  it.each([
    ['conversation.item.created', 'conversation.item.added'],
    ['response.audio_transcript.delta', 'response.output_audio_transcript.delta'],
    ['response.audio_transcript.done', 'response.output_audio_transcript.done'],
    ['response.text.delta', 'response.output_text.delta'],
    ['response.text.done', 'response.output_text.done'],
    ['response.audio.delta', 'response.output_audio.delta'],
    ['response.audio.done', 'response.output_audio.done'],
  ])('maps the beta name %s to %s', (beta, ga) => {
    expect(gaEventName(beta)).toBe(ga);
  });

  it.each([
    'conversation.item.added',
    'response.output_audio_transcript.delta',
    'response.output_audio.delta',
    'conversation.item.input_audio_transcription.completed',
    'input_audio_buffer.dtmf_event_received',
    'error',
    'some.future.event',
    '',
  ])('leaves %p unchanged', (name) => {
    expect(gaEventName(name)).toBe(name);
  });

  it('does not map names inherited from Object.prototype', () => {
    expect(gaEventName('constructor')).toBe('constructor');
    expect(gaEventName('toString')).toBe('toString');
    expect(gaEventName('__proto__')).toBe('__proto__');
  });
});

describe('isAudioDeltaFrame', () => {
  const hugeBase64 = 'QUJD'.repeat(250_000); // 1 MB of audio-looking base64

  it.each([
    ['GA, type first', '{"type":"response.output_audio.delta","event_id":"e1","delta":"AAAA"}'],
    ['beta, type first', '{"type":"response.audio.delta","event_id":"e1","delta":"AAAA"}'],
    ['GA, type after event_id', '{"event_id":"event_4748","type":"response.output_audio.delta","delta":"AAAA"}'],
    ['beta, type after event_id', '{"event_id":"event_4748","type":"response.audio.delta","delta":"AAAA"}'],
    ['whitespace around the colon', '{ "event_id" : "e", "type" \t:\n "response.output_audio.delta" , "delta": "AA" }'],
    ['pretty-printed', JSON.stringify({ event_id: 'e', type: 'response.audio.delta', delta: 'AAAA' }, null, 2)],
  ])('recognises an audio delta frame (%s)', (_label, frame) => {
    expect(isAudioDeltaFrame(frame)).toBe(true);
  });

  it('recognises an audio delta frame with a huge base64 payload', () => {
    const frame = JSON.stringify({
      event_id: 'event_1',
      type: 'response.output_audio.delta',
      response_id: 'resp_1',
      item_id: 'item_1',
      output_index: 0,
      content_index: 0,
      delta: hugeBase64,
    });
    expect(isAudioDeltaFrame(frame)).toBe(true);
  });

  it.each([
    ['GA transcript delta', '{"event_id":"e","type":"response.output_audio_transcript.delta","delta":"Hi"}'],
    ['beta transcript delta', '{"event_id":"e","type":"response.audio_transcript.delta","delta":"Hi"}'],
    ['audio done', '{"event_id":"e","type":"response.output_audio.done","item_id":"i"}'],
    ['caller transcript delta', '{"type":"conversation.item.input_audio_transcription.delta","delta":"hi"}'],
    [
      'a nested type that comes after the event type',
      '{"event_id":"e","type":"conversation.item.added","item":{"type":"response.output_audio.delta"}}',
    ],
    [
      'a transcript whose text mentions an audio delta',
      '{"type":"response.output_audio_transcript.delta","delta":"\\"type\\":\\"response.audio.delta\\""}',
    ],
    ['a key that merely ends in type', '{"subtype":"response.audio.delta","type":"session.updated"}'],
    ['non-JSON garbage', 'GARBAGE \u0000\u0001 response.output_audio.delta'],
    ['an unterminated frame', '{"type":"response.output_audio.delta'],
    ['the empty string', ''],
  ])('rejects %s', (_label, frame) => {
    expect(isAudioDeltaFrame(frame)).toBe(false);
  });

  it('rejects a huge non-audio frame', () => {
    const frame = JSON.stringify({ event_id: 'e', type: 'response.output_audio_transcript.done', transcript: hugeBase64 });
    expect(isAudioDeltaFrame(frame)).toBe(false);
  });
});
