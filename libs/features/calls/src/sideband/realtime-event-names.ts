/** Beta event names still sent by some sessions, mapped onto their GA names so listeners handle one name. */
const BETA_TO_GA: ReadonlyMap<string, string> = new Map(Object.entries({
  'conversation.item.created': 'conversation.item.added',
  'response.audio_transcript.delta': 'response.output_audio_transcript.delta',
  'response.audio_transcript.done': 'response.output_audio_transcript.done',
  'response.text.delta': 'response.output_text.delta',
  'response.text.done': 'response.output_text.done',
  'response.audio.delta': 'response.output_audio.delta',
  'response.audio.done': 'response.output_audio.done',
}));

export function gaEventName(type: string): string {
  return BETA_TO_GA.get(type) ?? type;
}

/** Audio payloads (if a SIP sideband sends them at all) are the bulk of the bytes: never parsed, never logged. */
const AUDIO_DELTA = new Set(['response.output_audio.delta', 'response.audio.delta']);

const TYPE_PREFIX = /"type"\s*:\s*"([^"]{1,64})"/;

/**
 * Reads the event type from the first bytes of a frame without parsing it. The first `"type"` key in an event is
 * the event's own (OpenAI writes `event_id` and `type` first, and no nested item type is an event name), so
 * an audio delta is recognised without touching its base64 payload.
 */
export function isAudioDeltaFrame(frame: string): boolean {
  const match = TYPE_PREFIX.exec(frame.length > 160 ? frame.slice(0, 160) : frame);
  return match !== null && AUDIO_DELTA.has(match[1]);
}
