import type { TranscriptLine } from '#events';

/** The line type is the `transcript.line` event's payload: one definition, in the event map. */
export type { TranscriptLine };
export type Speaker = TranscriptLine['speaker'];

/** The text of a caller turn whose transcription failed, or never produced any text in time. */
export const INAUDIBLE = '[inaudible]';

const LABELS: Record<Speaker, string> = { caller: 'Caller', agent: 'Agent' };

/**
 * `Caller: hi`, `Agent: hello… [interrupted]`, `Caller: [inaudible]`, `Caller: I'd like to… [partial]`.
 * Takes only the fields it prints, so stored records (`itemId: string | null`) format the same way.
 */
export function formatLine(line: Pick<TranscriptLine, 'speaker' | 'text' | 'interrupted' | 'placeholder'>): string {
  const label = LABELS[line.speaker] ?? 'Unknown';
  const text = line.text;
  if (line.placeholder && text !== INAUDIBLE) return `${label}: ${trailOff(text)} [partial]`;
  if (line.interrupted) return `${label}: ${trailOff(text)} [interrupted]`;
  return `${label}: ${text}`;
}

/** `hello` → `hello…`, `hello,` → `hello…`; text that already trails off is left alone. */
function trailOff(text: string): string {
  if (text.endsWith('…') || text.endsWith('...')) return text;
  return `${text.replace(/[.,;:]+$/, '')}…`;
}
