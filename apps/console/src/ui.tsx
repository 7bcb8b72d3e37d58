import type { ComponentChildren } from 'preact';
import { useFeedState } from './feed';
import { callDurationMs, durationText } from './format';
import { useNow, usePageHeading } from './hooks';
import type { CallRecord, LineSummary } from './types';

export function PageHeading({ title, children }: { title: string; children?: ComponentChildren }) {
  const ref = usePageHeading(title);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children ?? title}
    </h1>
  );
}

export function FeedIndicator() {
  const state = useFeedState();
  return (
    <p class={`feed feed-${state}`}>
      <span class="dot" aria-hidden="true" />
      <span class="sr-only">Live feed: </span>
      <span data-testid="feed-state" aria-live="polite">
        {state}
      </span>
    </p>
  );
}

export function ErrorBox({ message, retry }: { message: string; retry?: () => void }) {
  return (
    <div class="error" role="alert">
      <span>{message}</span>
      {retry && (
        <button type="button" onClick={retry}>
          Retry
        </button>
      )}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}

export const speakerLabel = (speaker: 'caller' | 'agent'): string => (speaker === 'caller' ? 'Caller' : 'Agent');

/** A line as "Caller: text", "[interrupted]" after an interrupted one, a placeholder ("[inaudible]") styled as such. */
export function LineText({ line }: { line: Pick<LineSummary, 'speaker' | 'text' | 'interrupted' | 'placeholder'> }) {
  return (
    <>
      <span class={`speaker speaker-${line.speaker}`}>{speakerLabel(line.speaker)}:</span>{' '}
      <span class={line.placeholder ? 'placeholder' : undefined}>{line.text}</span>
      {line.interrupted && <span class="interrupted"> [interrupted]</span>}
    </>
  );
}

export function Cell({ label, class: className, children }: { label: string; class?: string; children: ComponentChildren }) {
  return (
    <span class={`cell ${className ?? ''}`}>
      <span class="cell-label">{label} </span>
      <span class="cell-value">{children}</span>
    </span>
  );
}

/** A call's duration, ticking on the page's one clock while the call is live. */
export function Duration({ call }: { call: Pick<CallRecord, 'status' | 'acceptedAt' | 'endedAt'> }) {
  const now = useNow(call.status === 'active' && call.endedAt === null);
  return <>{durationText(callDurationMs(call, now))}</>;
}
