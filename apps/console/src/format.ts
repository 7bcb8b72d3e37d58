// Formatting of times, durations and values for display.

export function durationText(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = String(m).padStart(h > 0 ? 2 : 1, '0');
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

export function callDurationMs(call: { acceptedAt: string; endedAt: string | null }, now: number): number {
  const start = Date.parse(call.acceptedAt);
  const end = call.endedAt === null ? now : Date.parse(call.endedAt);
  return Number.isNaN(start) || Number.isNaN(end) ? 0 : end - start;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });
const shortDateTime = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

function format(formatter: Intl.DateTimeFormat, iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : formatter.format(date);
}

export const formatDateTime = (iso: string | null | undefined): string => format(dateTime, iso);
export const formatTime = (iso: string | null | undefined): string => format(timeOnly, iso);
export const formatShort = (iso: string | null | undefined): string => format(shortDateTime, iso);

export function msText(ms: number | null): string {
  if (ms === null) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

export function secondsText(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds % 60 === 0 && seconds < 3600) return `${seconds / 60}m`;
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  return `${Math.floor(seconds / 60)}m${seconds % 60}s`;
}

export const percent = (ratio: number): string => `${(ratio * 100).toFixed(ratio < 0.1 && ratio > 0 ? 1 : 0)}%`;

export function statusText(call: { status: string; endReason: string | null }): string {
  if (call.status === 'active') return 'live';
  return call.endReason ? `${call.status} · ${call.endReason}` : call.status;
}

/** Pretty-prints a JSON string (tool arguments and results); anything else as it is. */
export function prettyJson(text: string | null): string {
  if (text === null) return '';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** A local date (yyyy-mm-dd from <input type=date>) as the ISO instant of its start, or of its end. */
export function dayBoundIso(day: string, end: boolean): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (!m) return undefined;
  const date = end ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), 23, 59, 59, 999) : new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return date.toISOString();
}
