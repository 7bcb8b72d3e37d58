/** The durable record of one call. Numbers are caller-controlled metadata (E.164 when they could be read). */
export interface CallRecord {
  callId: string;
  status: CallStatus;
  /** The agent profile that answered (`default`: the environment's agent); null for a call that was not answered. */
  profile: string | null;
  callerNumber: string | null;
  dialledNumber: string | null;
  forwardedFrom: string | null;
  fromUri: string | null;
  sipCallId: string | null;
  twilioCallSid: string | null;
  conferenceName: string | null;
  acceptedAt: Date;
  endedAt: Date | null;
  /** A `CallEndReason` (remote_closed, transferred, error, session_cap, shutdown, handshake_failed) or a rejection reason. */
  endReason: string | null;
  /** The answering profile's metadata; for a call rejected for want of a profile, `{ sipStatus }`. */
  metadata: Record<string, unknown> | null;
}

export type CallStatus = 'active' | 'ended' | 'failed' | 'rejected';

export type NewCallRecord = Omit<CallRecord, 'status' | 'endedAt' | 'endReason'> & {
  status?: CallStatus;
  endedAt?: Date | null;
  endReason?: string | null;
};

export type Speaker = 'caller' | 'agent';

/** One finished turn of the conversation, in conversation order (`seq` from 0). */
export interface TranscriptLineRecord {
  callId: string;
  seq: number;
  speaker: Speaker;
  text: string;
  /** The Realtime conversation item the line came from. */
  itemId: string | null;
  /** The agent was cut off by the caller. */
  interrupted: boolean;
  /** The text is a stand-in (the transcription failed or never completed). */
  placeholder: boolean;
  /** When the line became final. */
  at: Date;
}

/** How a call ended, as `endCall` records it. */
export interface CallEnd {
  status: CallStatus;
  endedAt: Date;
  endReason: string;
}

/** One of the writes `write` applies: a new call, its end, or lines of its transcript. */
export type CallRecordWrite =
  | { kind: 'create'; record: NewCallRecord }
  | { kind: 'end'; callId: string; end: CallEnd }
  | { kind: 'lines'; lines: TranscriptLineRecord[] };

export interface CallQuery {
  /** Matches the caller, dialled or forwarded-from number (exact, E.164). */
  number?: string;
  profile?: string;
  /** acceptedAt >= from */
  from?: Date;
  /** acceptedAt < to */
  to?: Date;
  limit: number;
  /** Opaque cursor returned as `nextCursor` by the previous page. */
  cursor?: string;
}

export interface CallPage {
  calls: CallRecord[];
  nextCursor?: string;
}

/**
 * Calls and their transcripts. Every write is idempotent (a retried write after an ambiguous failure changes
 * nothing): a call once per `callId`, a line once per `(callId, seq)`.
 */
export abstract class CallRecordsRepository {
  abstract createCall(record: NewCallRecord): Promise<void>;
  /** Sets status, end time and reason; a call already ended keeps its first end. */
  abstract endCall(callId: string, end: CallEnd): Promise<void>;
  abstract appendLines(lines: TranscriptLineRecord[]): Promise<void>;
  /**
   * Applies the writes in order, all or none, as one transaction: at 200 calls a second, a commit per write was most
   * of what storing a call cost (and on PostgreSQL each commit is a round trip and a flush of its log).
   */
  abstract write(writes: readonly CallRecordWrite[]): Promise<void>;
  abstract getCall(callId: string): Promise<CallRecord | undefined>;
  /** Newest first (acceptedAt desc, callId desc), keyset-paginated. */
  abstract listCalls(query: CallQuery): Promise<CallPage>;
  /** The call's lines ordered by seq. */
  abstract transcript(callId: string): Promise<TranscriptLineRecord[]>;
  /** Deletes calls (and their lines) that ended before `cutoff`; returns how many calls were deleted. */
  abstract purgeEndedBefore(cutoff: Date): Promise<number>;
}
