import type { ToolInvocationStatus } from '#events';

/** One run of a tool on a call, as stored: once per `(callId, toolCallId)`. */
export interface ToolInvocationRecord {
  /** Storage id (stable across the `running` → final update). */
  id: string;
  callId: string;
  /** The Realtime function call's `call_id`; `dtmf_…` when a DTMF key-map action started the run. */
  toolCallId: string;
  name: string;
  /** JSON text of the arguments, secrets already redacted; null when they were not a JSON object. */
  arguments: string | null;
  /** What the model was given (JSON text, secrets redacted); null while running. */
  result: string | null;
  status: ToolInvocationStatus;
  startedAt: Date;
  finishedAt: Date | null;
}

/**
 * Where tool runs are recorded. Writes are upserts keyed by `(callId, toolCallId)`: a run is written when it starts
 * (`running`) and again when it ends, and writing the same record twice is harmless.
 */
export abstract class ToolInvocations {
  /** Inserts or updates (status, result, end time) each record; records are applied in the order given. */
  abstract upsert(records: ToolInvocationRecord[]): Promise<void>;
  /** A call's tool runs in the order they started. */
  abstract forCall(callId: string): Promise<ToolInvocationRecord[]>;
}

/** Milliseconds a run took, or undefined while it runs. */
export function durationOf(record: Pick<ToolInvocationRecord, 'startedAt' | 'finishedAt'>): number | undefined {
  return record.finishedAt === null ? undefined : record.finishedAt.getTime() - record.startedAt.getTime();
}
