import type { CallDtmfEvent, CallTransferEvent, ToolCompletedEvent, ToolStartedEvent, TranscriptLine } from '#events';
import { durationOf, type CallRecord, type ToolInvocationRecord, type TranscriptLineRecord } from '#storage';

/**
 * One thing that happened on a call, as the console shows it and the exports write it. Built from storage for a
 * call's page and from the bus for the live feed, by the functions below, so both read the same.
 */
export type TimelineItem =
  | LineItem
  | ToolItem
  | { kind: 'dtmf'; at: Date; key: string; action?: string }
  | { kind: 'transfer'; at: Date; attempt: string; status: CallTransferEvent['status']; detail?: string }
  | { kind: 'error'; at: Date; message: string }
  /** Another replica took the call over: handed over by a draining one, or after its own was lost (`expired`). */
  | { kind: 'owner'; at: Date; cause: 'handover' | 'expired' }
  | SupervisorItem
  | { kind: 'end'; at: Date; status: string; reason: string };

/** A supervisor's action on the live call (whisper, hang up, transfer), as the call's owner carried it out. */
export interface SupervisorItem {
  kind: 'supervisor';
  at: Date;
  action: 'whisper' | 'hangup' | 'transfer';
  /** Who asked (`admin token`, or the console session's name). */
  by: string;
  status: 'done' | 'failed';
  /** The whispered instruction, or why it failed. */
  detail?: string;
}

export interface LineItem {
  kind: 'line';
  at: Date;
  seq: number;
  speaker: 'caller' | 'agent';
  text: string;
  interrupted: boolean;
  placeholder: boolean;
}

export interface ToolItem {
  kind: 'tool';
  at: Date;
  toolCallId: string;
  name: string;
  /** JSON text, secrets redacted. */
  arguments: string | null;
  /** JSON text, secrets redacted; null while running. */
  result: string | null;
  status: ToolInvocationRecord['status'];
  startedAt: Date;
  finishedAt: Date | null;
  durationMs: number | null;
}

export function lineItem(line: TranscriptLine | TranscriptLineRecord): LineItem {
  return {
    kind: 'line',
    at: line.at,
    seq: line.seq,
    speaker: line.speaker,
    text: line.text,
    interrupted: line.interrupted,
    placeholder: line.placeholder,
  };
}

export function toolItem(run: ToolInvocationRecord): ToolItem {
  return {
    kind: 'tool',
    at: run.startedAt,
    toolCallId: run.toolCallId,
    name: run.name,
    arguments: run.arguments,
    result: run.result,
    status: run.status,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    durationMs: durationOf(run) ?? null,
  };
}

export function startedToolItem(event: ToolStartedEvent): ToolItem {
  return {
    kind: 'tool',
    at: event.startedAt,
    toolCallId: event.toolCallId,
    name: event.name,
    arguments: event.arguments === null ? null : JSON.stringify(event.arguments),
    result: null,
    status: 'running',
    startedAt: event.startedAt,
    finishedAt: null,
    durationMs: null,
  };
}

/** A finished run; its arguments are not on the completion event (the started item, already shown, has them). */
export function completedToolItem(event: ToolCompletedEvent, args: string | null): ToolItem {
  return {
    kind: 'tool',
    at: event.startedAt,
    toolCallId: event.toolCallId,
    name: event.name,
    arguments: args,
    result: event.output,
    status: event.status,
    startedAt: event.startedAt,
    finishedAt: event.finishedAt,
    durationMs: event.durationMs,
  };
}

export function dtmfItem(event: Pick<CallDtmfEvent, 'key' | 'action' | 'receivedAt'>): TimelineItem {
  return { kind: 'dtmf', at: event.receivedAt, key: event.key, ...(event.action !== undefined ? { action: event.action } : {}) };
}

export function transferItem(event: Pick<CallTransferEvent, 'attempt' | 'status' | 'detail' | 'at'>): TimelineItem {
  return { kind: 'transfer', at: event.at, attempt: event.attempt, status: event.status, ...(event.detail !== undefined ? { detail: event.detail } : {}) };
}

export function endItem(call: Pick<CallRecord, 'status' | 'endedAt' | 'endReason'>): TimelineItem | undefined {
  return call.endedAt ? { kind: 'end', at: call.endedAt, status: call.status, reason: call.endReason ?? call.status } : undefined;
}

/**
 * Everything in the order it happened: by time, lines among themselves by `seq` (a line's time is when it became
 * final, which for a caller turn can be after the agent's answer began), and the end last.
 */
export function orderTimeline(items: TimelineItem[]): TimelineItem[] {
  const rank = (item: TimelineItem) => (item.kind === 'end' ? 1 : 0);
  const lines = items.filter((i): i is LineItem => i.kind === 'line').sort((a, b) => a.seq - b.seq);
  const others = items.filter((i) => i.kind !== 'line').sort((a, b) => rank(a) - rank(b) || a.at.getTime() - b.at.getTime());
  // Merge: lines keep their seq order; each other item goes before the first line that became final after it.
  const merged: TimelineItem[] = [];
  let l = 0;
  for (const item of others) {
    while (l < lines.length && (item.kind === 'end' || lines[l].at.getTime() <= item.at.getTime())) merged.push(lines[l++]);
    merged.push(item);
  }
  while (l < lines.length) merged.push(lines[l++]);
  return merged;
}
