/**
 * A server event from a call's sideband socket, with beta event names already mapped onto GA names
 * (`response.audio_transcript.delta` arrives as `response.output_audio_transcript.delta`, and so on).
 * Fields are read defensively by each listener: the wire is not ours.
 */
export interface RealtimeServerEvent {
  type: string;
  event_id?: string;
  [field: string]: unknown;
}

/** A client event we send; `event_id` is stamped by the session when absent. */
export interface RealtimeClientEvent {
  type: string;
  event_id?: string;
  [field: string]: unknown;
}
