import type { CallRecord, TranscriptLineRecord } from '#storage';
import type { TimelineItem } from '../timeline.js';

/** A line as the lists show it (the call's latest, or the one a search matched). */
export type LineSummary = Pick<TranscriptLineRecord, 'seq' | 'speaker' | 'text' | 'interrupted' | 'placeholder' | 'at'>;

/** The fields of a line the lists show (a released line, a stored one, or a timeline item). */
export function lineSummary(line: LineSummary): LineSummary {
  return { seq: line.seq, speaker: line.speaker, text: line.text, interrupted: line.interrupted, placeholder: line.placeholder, at: line.at };
}

/** A call as the lists show it. */
export interface CallSummary extends CallRecord {
  lastLine?: LineSummary;
  match?: LineSummary & { highlights: Array<[number, number]> };
}

/** What the live feed carries (see docs/console.md). */
export type FeedEvent =
  | { type: 'hello' }
  | { type: 'call'; call: CallSummary }
  | { type: 'timeline'; callId: string; item: TimelineItem }
  | { type: 'reset' };

/** A feed event with its place in the feed: `id` is what a reconnecting browser sends back as Last-Event-ID. */
export interface FeedEntry {
  id: string;
  /** The event, serialized once for every console that receives it. */
  data: string;
  /** The call it is about (for a call page's stream), if any. */
  callId?: string;
}

export function callIdOf(event: FeedEvent): string | undefined {
  return event.type === 'call' ? event.call.callId : event.type === 'timeline' ? event.callId : undefined;
}
