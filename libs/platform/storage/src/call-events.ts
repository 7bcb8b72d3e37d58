/** What the timeline keeps besides lines and tool runs. */
export type CallEventKind = 'dtmf' | 'transfer' | 'error' | 'owner' | 'supervisor';

/**
 * One timeline event of a call, as stored: once per `(callId, eventId)`. `data` is the kind's own fields (a key and
 * its action, a transfer attempt and its status, an error's message), kept as JSON.
 */
export interface CallEventRecord {
  callId: string;
  /** Chosen by the caller, unique within the call: a retried append of the same event stores it once. */
  eventId: string;
  kind: CallEventKind;
  at: Date;
  data: Record<string, unknown>;
}

/**
 * Where key presses, transfers and errors are recorded for a call's timeline. Appends are insert-or-ignore by
 * `(callId, eventId)`, so replaying a batch after an ambiguous failure is harmless. The retention purge deletes a
 * call's events with the call.
 */
export abstract class CallEvents {
  abstract append(events: CallEventRecord[]): Promise<void>;
  /** A call's events by `at`, events of the same instant in the order they were first appended. */
  abstract forCall(callId: string): Promise<CallEventRecord[]>;
}
