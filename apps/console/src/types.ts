// The shapes of docs/console.md, as the console reads them.

export type Role = 'admin' | 'supervisor' | 'viewer';

export interface Session {
  role: Role;
  csrfToken: string;
  expiresAt: string;
}

export type CallStatus = 'active' | 'ended' | 'failed' | 'rejected';

export interface CallRecord {
  callId: string;
  status: CallStatus;
  profile: string | null;
  callerNumber: string | null;
  dialledNumber: string | null;
  forwardedFrom: string | null;
  acceptedAt: string;
  endedAt: string | null;
  endReason: string | null;
}

export interface LineSummary {
  seq: number;
  speaker: 'caller' | 'agent';
  text: string;
  interrupted: boolean;
  placeholder: boolean;
  at: string;
}

export interface CallSummary extends CallRecord {
  lastLine?: LineSummary;
  match?: LineSummary & { highlights: Array<[number, number]> };
}

export interface CallPage {
  calls: CallSummary[];
  nextCursor?: string;
}

export type ToolStatus = 'running' | 'succeeded' | 'failed' | 'timed_out' | 'invalid_arguments' | 'unknown_tool';

export interface LineItem extends LineSummary {
  kind: 'line';
}
export interface ToolItem {
  kind: 'tool';
  at: string;
  toolCallId: string;
  name: string;
  arguments: string | null;
  result: string | null;
  status: ToolStatus;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number | null;
}
export interface DtmfItem {
  kind: 'dtmf';
  at: string;
  key: string;
  action?: string;
}
export interface TransferItem {
  kind: 'transfer';
  at: string;
  attempt: string;
  status: 'dialing' | 'joined' | 'no_answer' | 'busy' | 'failed';
  detail?: string;
}
export interface ErrorItem {
  kind: 'error';
  at: string;
  message: string;
}
export interface EndItem {
  kind: 'end';
  at: string;
  status: string;
  reason: string;
}
export interface OwnerItem {
  kind: 'owner';
  at: string;
  cause: 'handover' | 'expired';
}
export interface SupervisorItem {
  kind: 'supervisor';
  at: string;
  action: 'whisper' | 'hangup' | 'transfer';
  by: string;
  status: 'done' | 'failed';
  detail?: string;
}
export type TimelineItem = LineItem | ToolItem | DtmfItem | TransferItem | ErrorItem | OwnerItem | SupervisorItem | EndItem;

export interface Timeline {
  call: CallRecord;
  items: TimelineItem[];
}

export interface Stats {
  window: '24h' | '7d';
  from: string;
  to: string;
  bucketMs: number;
  buckets: Array<{ start: string; outcomes: Record<string, number> }>;
  durations: { boundsSeconds: number[]; counts: number[] };
  total: number;
  transferRate: number;
  firstAgentLineP95Ms: number | null;
}

export type FeedEvent =
  | { type: 'hello' }
  | { type: 'call'; call: CallSummary }
  | { type: 'timeline'; callId: string; item: TimelineItem }
  | { type: 'reset' };
