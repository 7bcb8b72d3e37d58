import type { CallRecord } from '#storage';
import { formatLine } from '#transcripts';
import type { TimelineItem } from '../timeline.js';

/** The columns of the call list's CSV, one row per call. */
export const CALL_LIST_COLUMNS = [
  'callId', 'status', 'profile', 'callerNumber', 'dialledNumber', 'forwardedFrom', 'acceptedAt', 'endedAt', 'durationSeconds', 'endReason',
] as const;

/** The columns of a call's CSV, one row per timeline item. */
export const TIMELINE_COLUMNS = ['at', 'kind', 'seq', 'speaker', 'text', 'status', 'detail'] as const;

/**
 * One CSV field (RFC 4180: quoted when it holds a comma, quote or line break). A field a spreadsheet would run as a
 * formula (`=…`, `@…`, `+…`/`-…` that is not a plain number such as +14155550100) is prefixed with `'`: transcript
 * text is the caller's words.
 */
export function csvField(value: unknown): string {
  let text = value === null || value === undefined ? '' : value instanceof Date ? value.toISOString() : String(value);
  if (/^[=@\t\r]/.test(text) || (/^[+-]/.test(text) && !/^[+-]\d+(\.\d+)?$/.test(text))) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvRow(values: readonly unknown[]): string {
  return values.map(csvField).join(',') + '\r\n';
}

export function callListRow(call: CallRecord): string {
  const duration = call.endedAt ? Math.round((call.endedAt.getTime() - call.acceptedAt.getTime()) / 1000) : null;
  return csvRow([
    call.callId, call.status, call.profile, call.callerNumber, call.dialledNumber, call.forwardedFrom, call.acceptedAt, call.endedAt, duration, call.endReason,
  ]);
}

/** A call's timeline as CSV rows (with the header). */
export function timelineCsv(items: readonly TimelineItem[]): string {
  return csvRow(TIMELINE_COLUMNS) + items.map((item) => csvRow(timelineColumns(item))).join('');
}

function timelineColumns(item: TimelineItem): unknown[] {
  switch (item.kind) {
    case 'line':
      return [item.at, 'line', item.seq, item.speaker, item.text, item.interrupted ? 'interrupted' : item.placeholder ? 'placeholder' : '', ''];
    case 'tool':
      return [item.at, 'tool', '', '', item.name, item.status, JSON.stringify({ arguments: item.arguments, result: item.result, durationMs: item.durationMs })];
    case 'dtmf':
      return [item.at, 'dtmf', '', 'caller', item.key, item.action ?? '', ''];
    case 'transfer':
      return [item.at, 'transfer', '', '', item.attempt, item.status, item.detail ?? ''];
    case 'error':
      return [item.at, 'error', '', '', item.message, '', ''];
    case 'owner':
      return [item.at, 'owner', '', '', item.cause, '', ''];
    case 'supervisor':
      return [item.at, 'supervisor', '', item.by, item.action, item.status, item.detail ?? ''];
    case 'end':
      return [item.at, 'end', '', '', item.reason, item.status, ''];
  }
}

/** The call as a person reads it: a header, then `Caller: …` / `Agent: …`, tool runs, keys and the end, in order. */
export function timelineText(call: CallRecord, items: readonly TimelineItem[]): string {
  const header = [
    `Call ${call.callId}`,
    `Profile: ${call.profile ?? '-'}`,
    `From: ${call.callerNumber ?? call.fromUri ?? '-'}  To: ${call.dialledNumber ?? '-'}`,
    `Accepted: ${call.acceptedAt.toISOString()}${call.endedAt ? `  Ended: ${call.endedAt.toISOString()} (${call.endReason ?? call.status})` : '  (in progress)'}`,
    '',
  ];
  const body = items.map((item) => {
    switch (item.kind) {
      case 'line':
        return formatLine(item);
      case 'tool':
        return `[tool ${item.name}: ${item.status}${item.durationMs !== null ? `, ${item.durationMs} ms` : ''}]`;
      case 'dtmf':
        return `[key ${item.key}${item.action ? ` → ${item.action}` : ''}]`;
      case 'transfer':
        return `[transfer ${item.status}${item.detail ? `: ${item.detail}` : ''}]`;
      case 'error':
        return `[error: ${item.message}]`;
      case 'owner':
        return `[taken over by another replica: ${item.cause === 'handover' ? 'handed over' : 'its replica was lost'}]`;
      case 'supervisor':
        return `[supervisor ${item.by}: ${item.action} ${item.status}${item.detail ? `: ${item.detail}` : ''}]`;
      case 'end':
        return `[ended: ${item.reason}]`;
    }
  });
  return [...header, ...body].join('\n') + '\n';
}
