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
  /** `live`: status `active`; `ended`: any other status (ended, failed, rejected). */
  state?: 'live' | 'ended';
  /** Exact end reason (`transferred`, `remote_closed`, a rejection reason, …). */
  endReason?: string;
  /**
   * Full-text search over the call's transcript: every word must start a word of some line of the call (case-
   * insensitive; words are runs of letters and digits, everything else separates them, as `searchWords` reads
   * them). A `q` without a word (empty, only punctuation) is no filter. Matching calls carry `match`.
   */
  q?: string;
  limit: number;
  /** Opaque cursor returned as `nextCursor` by the previous page. */
  cursor?: string;
}

/** The line a `q` search shows for a call: its best matching line, and where in `text` the query's words are. */
export interface LineMatch {
  seq: number;
  speaker: Speaker;
  text: string;
  interrupted: boolean;
  placeholder: boolean;
  at: Date;
  /** `[start, end)` UTF-16 ranges of `text`, in order, not overlapping: each word of the line a query word starts. */
  highlights: Array<[number, number]>;
}

/** A listed call; with `q`, the line that matched. */
export type CallSummaryRecord = CallRecord & { match?: LineMatch };

export interface CallPage {
  calls: CallSummaryRecord[];
  /**
   * Where the next page starts, when there may be more. A `q` search bounds its work per page, so its page can be
   * shorter than `limit` (even empty) and still have a `nextCursor`: the calls after it have not been searched yet.
   */
  nextCursor?: string;
}

/** What `stats` aggregates: calls accepted in `[from, to)`, bucketed by acceptance every `bucketMs` from `from`. */
export interface StatsWindow {
  from: Date;
  to: Date;
  bucketMs: number;
  /** Ascending upper bounds (seconds, exclusive) of the duration histogram; one more count holds the rest. */
  durationBoundsSeconds: number[];
}

export interface CallStats {
  from: Date;
  to: Date;
  bucketMs: number;
  /** Every bucket of the window, empty ones too. Outcome: the end reason, `live` for an active call, else the status. */
  buckets: Array<{ start: Date; outcomes: Record<string, number> }>;
  /** Ended calls (endedAt set) by endedAt − acceptedAt; `counts` has one more entry than `boundsSeconds`. */
  durations: { boundsSeconds: number[]; counts: number[] };
  total: number;
  /** Calls ended `transferred` / calls not rejected; 0 when there are none. */
  transferRate: number;
  /** p95 (nearest rank) of first agent line `at` − acceptedAt, over the calls with an agent line; null when none. */
  firstAgentLineP95Ms: number | null;
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
  /** Each call's latest line (highest seq), in one query; calls without lines are absent from the map. */
  abstract lastLines(callIds: string[]): Promise<Map<string, TranscriptLineRecord>>;
  /** The console's charts over a window of accepted calls. */
  abstract stats(window: StatsWindow): Promise<CallStats>;
  /** Deletes calls (and their lines, tool runs, timeline events) that ended before `cutoff`; returns how many calls were deleted. */
  abstract purgeEndedBefore(cutoff: Date): Promise<number>;
}

/**
 * A writer that stores what the bus publishes a little later, in the background (the call records). Found among the
 * providers by whoever must know that everything published so far is stored: a replica handing its calls to
 * another flushes them first, so that the next owner reads every line released here.
 */
export abstract class WriteBehind {
  /** Resolves once everything enqueued so far is stored. */
  abstract flush(): Promise<void>;
}
