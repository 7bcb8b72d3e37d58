import type { CallStatus, CallSummary, LineSummary, TimelineItem } from './types';

// Merging what the feed says about a call into what the console already knows.

const STATUSES: readonly string[] = ['active', 'ended', 'failed', 'rejected'];

export function newerLine(a: LineSummary | undefined, b: LineSummary | undefined): LineSummary | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.seq >= a.seq ? b : a;
}

/** A `call` event's record over the one known (keeping the later last line of the two). */
export function mergeCall(old: CallSummary | undefined, next: CallSummary): CallSummary {
  if (!old) return next;
  const merged: CallSummary = { ...old, ...next };
  const lastLine = newerLine(old.lastLine, next.lastLine);
  if (lastLine) merged.lastLine = lastLine;
  return merged;
}

/** A `timeline` event's effect on the call's summary: its last line, or its end. */
export function applyItem(call: CallSummary, item: TimelineItem): CallSummary {
  if (item.kind === 'line') {
    const { kind: _kind, ...line } = item;
    const lastLine = newerLine(call.lastLine, line);
    return lastLine === call.lastLine ? call : { ...call, lastLine };
  }
  if (item.kind === 'end' && call.status === 'active') {
    const status = (STATUSES.includes(item.status) && item.status !== 'active' ? item.status : 'ended') as CallStatus;
    return { ...call, status, endReason: call.endReason ?? item.reason, endedAt: call.endedAt ?? item.at };
  }
  return call;
}

export const callHref = (callId: string): string => `/console/calls/${encodeURIComponent(callId)}`;

/** Digits of a number, for matching "+44 20…" against "+4420…". */
export const digits = (text: string | null | undefined): string => (text ?? '').replace(/\D/g, '');
