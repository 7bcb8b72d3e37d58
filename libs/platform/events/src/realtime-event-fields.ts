import type { RealtimeServerEvent as SdkServerEvent } from 'openai/resources/realtime/realtime';

type SdkEventType = SdkServerEvent['type'];
type SdkFields<T extends SdkEventType> = Exclude<keyof Extract<SdkServerEvent, { type: T }>, 'type'> & string;

/**
 * Every server event type of the Realtime API and its top-level fields (besides `type`), as the `openai` SDK
 * declares them. The compiler holds this table to the SDK: a type or field missing here, or named here and not in
 * the SDK, fails the build, so an SDK upgrade that adds one says so. What arrives beyond it is counted and noted
 * (SidebandWireAudit), never refused: the wire is not ours, and a newer API may add to it at any time.
 */
export const REALTIME_SERVER_EVENT_FIELDS = {
  'conversation.created': ['conversation', 'event_id'],
  'conversation.item.created': ['event_id', 'item', 'previous_item_id'],
  'conversation.item.deleted': ['event_id', 'item_id'],
  'conversation.item.input_audio_transcription.completed': ['content_index', 'event_id', 'item_id', 'logprobs', 'transcript', 'usage'],
  'conversation.item.input_audio_transcription.delta': ['content_index', 'delta', 'event_id', 'item_id', 'logprobs'],
  'conversation.item.input_audio_transcription.failed': ['content_index', 'error', 'event_id', 'item_id'],
  'conversation.item.retrieved': ['event_id', 'item'],
  'conversation.item.truncated': ['audio_end_ms', 'content_index', 'event_id', 'item_id'],
  'error': ['error', 'event_id'],
  'input_audio_buffer.cleared': ['event_id'],
  'input_audio_buffer.committed': ['event_id', 'item_id', 'previous_item_id'],
  'input_audio_buffer.dtmf_event_received': ['event', 'received_at'],
  'input_audio_buffer.speech_started': ['audio_start_ms', 'event_id', 'item_id'],
  'input_audio_buffer.speech_stopped': ['audio_end_ms', 'event_id', 'item_id'],
  'rate_limits.updated': ['event_id', 'rate_limits'],
  'response.output_audio.delta': ['content_index', 'delta', 'event_id', 'item_id', 'output_index', 'response_id'],
  'response.output_audio.done': ['content_index', 'event_id', 'item_id', 'output_index', 'response_id'],
  'response.output_audio_transcript.delta': ['content_index', 'delta', 'event_id', 'item_id', 'output_index', 'response_id'],
  'response.output_audio_transcript.done': ['content_index', 'event_id', 'item_id', 'output_index', 'response_id', 'transcript'],
  'response.content_part.added': ['content_index', 'event_id', 'item_id', 'output_index', 'part', 'response_id'],
  'response.content_part.done': ['content_index', 'event_id', 'item_id', 'output_index', 'part', 'response_id'],
  'response.created': ['event_id', 'response'],
  'response.done': ['event_id', 'response'],
  'response.function_call_arguments.delta': ['call_id', 'delta', 'event_id', 'item_id', 'output_index', 'response_id'],
  'response.function_call_arguments.done': ['arguments', 'call_id', 'event_id', 'item_id', 'name', 'output_index', 'response_id'],
  'response.output_item.added': ['event_id', 'item', 'output_index', 'response_id'],
  'response.output_item.done': ['event_id', 'item', 'output_index', 'response_id'],
  'response.output_text.delta': ['content_index', 'delta', 'event_id', 'item_id', 'output_index', 'response_id'],
  'response.output_text.done': ['content_index', 'event_id', 'item_id', 'output_index', 'response_id', 'text'],
  'session.created': ['event_id', 'session'],
  'session.updated': ['event_id', 'session'],
  'output_audio_buffer.started': ['event_id', 'response_id'],
  'output_audio_buffer.stopped': ['event_id', 'response_id'],
  'output_audio_buffer.cleared': ['event_id', 'response_id'],
  'conversation.item.added': ['event_id', 'item', 'previous_item_id'],
  'conversation.item.done': ['event_id', 'item', 'previous_item_id'],
  'input_audio_buffer.timeout_triggered': ['audio_end_ms', 'audio_start_ms', 'event_id', 'item_id'],
  'conversation.item.input_audio_transcription.segment': ['content_index', 'end', 'event_id', 'id', 'item_id', 'speaker', 'start', 'text'],
  'mcp_list_tools.in_progress': ['event_id', 'item_id'],
  'mcp_list_tools.completed': ['event_id', 'item_id'],
  'mcp_list_tools.failed': ['event_id', 'item_id'],
  'response.mcp_call_arguments.delta': ['delta', 'event_id', 'item_id', 'obfuscation', 'output_index', 'response_id'],
  'response.mcp_call_arguments.done': ['arguments', 'event_id', 'item_id', 'output_index', 'response_id'],
  'response.mcp_call.in_progress': ['event_id', 'item_id', 'output_index'],
  'response.mcp_call.completed': ['event_id', 'item_id', 'output_index'],
  'response.mcp_call.failed': ['event_id', 'item_id', 'output_index'],
} as const satisfies { [T in SdkEventType]: ReadonlyArray<SdkFields<T>> };

/** Fails to compile when the SDK declares a field the table above leaves out. */
type Unlisted = { [T in SdkEventType]: Exclude<SdkFields<T>, (typeof REALTIME_SERVER_EVENT_FIELDS)[T][number]> }[SdkEventType];
const tableIsComplete: [Unlisted] extends [never] ? true : Unlisted = true;
void tableIsComplete;

const KNOWN_FIELDS: ReadonlyMap<string, ReadonlySet<string>> = new Map(
  Object.entries(REALTIME_SERVER_EVENT_FIELDS).map(([type, fields]) => [type, new Set<string>(['type', ...fields])]),
);

/** Whether the SDK knows this (GA) server event type. */
export function isKnownServerEventType(type: string): boolean {
  return KNOWN_FIELDS.has(type);
}

/**
 * The top-level fields of a known event that the SDK does not declare (none, almost always: the check allocates
 * nothing then). An event of an unknown type has no known fields, and is reported as unknown, not here.
 */
export function unknownFieldsOf(event: { type: string }): string[] {
  const known = KNOWN_FIELDS.get(event.type);
  if (known === undefined) return [];
  let extra: string[] | undefined;
  for (const field in event) {
    if (!known.has(field)) (extra ??= []).push(field);
  }
  return extra ?? [];
}
