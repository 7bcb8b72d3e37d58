import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, errorText, exportUrl, isAbort } from '../api';
import { applyItem, mergeCall } from '../calls';
import { useFeed } from '../feed';
import { formatDateTime, formatTime, msText, prettyJson } from '../format';
import { useDrawnCount } from '../hooks';
import { addItem, keyFor } from '../timeline';
import type { CallRecord, FeedEvent, TimelineItem, ToolItem } from '../types';
import { Duration, ErrorBox, FeedIndicator, LineText, Loading, PageHeading } from '../ui';
import { memo } from '../virtual';

export function Call({ callId }: { callId: string }) {
  const [call, setCall] = useState<CallRecord | undefined>();
  const [items, setItems] = useState<TimelineItem[]>([]);
  const [error, setError] = useState<string | undefined>();
  const [notFound, setNotFound] = useState(false);
  const [reloads, setReloads] = useState(0);
  // Feed events that came while the timeline loaded, applied over it once it is there.
  const pending = useRef<FeedEvent[] | undefined>([]);

  const apply = (event: FeedEvent): void => {
    if (event.type === 'call' && event.call.callId === callId) setCall((known) => (known ? mergeCall(known, event.call) : event.call));
    if (event.type === 'timeline' && event.callId === callId) {
      setItems((known) => addItem(known, event.item));
      setCall((known) => (known ? applyItem(known, event.item) : known));
    }
  };

  useFeed((event) => {
    if (event.type === 'reset') return setReloads((n) => n + 1);
    if (pending.current) pending.current.push(event);
    else apply(event);
  });

  useEffect(() => {
    const abort = new AbortController();
    pending.current = [];
    setError(undefined);
    api.timeline(callId, abort.signal).then(
      (timeline) => {
        setCall(timeline.call);
        setItems(timeline.items);
        const buffered = pending.current ?? [];
        pending.current = undefined;
        for (const event of buffered) apply(event);
      },
      (e: unknown) => {
        if (isAbort(e)) return;
        pending.current = undefined;
        if (e instanceof ApiError && e.status === 404) setNotFound(true);
        else setError(errorText(e));
      },
    );
    return () => abort.abort();
  }, [callId, reloads]);

  // A long call is drawn a screenful first, the rest in idle time (see useDrawnCount), all of it in the document.
  const drawn = useDrawnCount(items.length);

  if (notFound) {
    return (
      <section>
        <PageHeading title="Call not found" />
        <p>There is no call with the id {callId}.</p>
        <p>
          <a href="/console/history">Search the history</a>
        </p>
      </section>
    );
  }

  return (
    <section>
      <div class="page-head">
        <PageHeading title={call ? `Call from ${call.callerNumber ?? 'unknown'}` : 'Call'} />
        <FeedIndicator />
      </div>
      {error && <ErrorBox message={error} retry={() => setReloads((n) => n + 1)} />}
      {!call && !error && <Loading what="the call" />}
      {call && (
        <>
          <CallHeader call={call} />
          <nav class="exports" aria-label="Export this call">
            <span>Export:</span>
            <a href={exportUrl(call.callId, 'json')} download={`call-${call.callId}.json`} data-testid="export-json">
              JSON
            </a>
            <a href={exportUrl(call.callId, 'csv')} download={`call-${call.callId}.csv`} data-testid="export-csv">
              CSV
            </a>
            <a href={exportUrl(call.callId, 'text')} download={`call-${call.callId}.txt`} data-testid="export-text">
              Text
            </a>
          </nav>
          <h2>Timeline</h2>
          {items.length === 0 ? (
            <p class="empty">Nothing has happened on this call yet.</p>
          ) : (
            <ol class="timeline">
              {(drawn < items.length ? items.slice(0, drawn) : items).map((item) => (
                <Item key={keyFor(item)} item={item} />
              ))}
            </ol>
          )}
        </>
      )}
    </section>
  );
}

function CallHeader({ call }: { call: CallRecord }) {
  return (
    <dl class="facts">
      <div>
        <dt>Caller</dt>
        <dd class="num">{call.callerNumber ?? 'unknown'}</dd>
      </div>
      <div>
        <dt>Dialled</dt>
        <dd class="num">{call.dialledNumber ?? '—'}</dd>
      </div>
      {call.forwardedFrom && (
        <div>
          <dt>Forwarded from</dt>
          <dd class="num">{call.forwardedFrom}</dd>
        </div>
      )}
      <div>
        <dt>Profile</dt>
        <dd>{call.profile ?? '—'}</dd>
      </div>
      <div>
        <dt>Status</dt>
        <dd>
          <span class={`badge badge-${call.status}`}>{call.status === 'active' ? 'live' : call.status}</span>
        </dd>
      </div>
      <div>
        <dt>Duration</dt>
        <dd>
          <Duration call={call} />
        </dd>
      </div>
      <div>
        <dt>Accepted</dt>
        <dd>{formatDateTime(call.acceptedAt)}</dd>
      </div>
      <div>
        <dt>Ended</dt>
        <dd>{call.endedAt ? formatDateTime(call.endedAt) : '—'}</dd>
      </div>
      {call.status !== 'active' && (
        <div>
          <dt>End reason</dt>
          <dd data-testid="call-end-reason">{call.endReason ?? call.status}</dd>
        </div>
      )}
    </dl>
  );
}

const TOOL_STATUS: Record<ToolItem['status'], string> = {
  running: 'running',
  succeeded: 'succeeded',
  failed: 'failed',
  timed_out: 'timed out',
  invalid_arguments: 'invalid arguments',
  unknown_tool: 'unknown tool',
};

const SUPERVISOR_ACTION: Record<string, string> = { whisper: 'whispered to the agent', hangup: 'hung up', transfer: 'transferred the call' };
const TRANSFER_STATUS: Record<string, string> = { dialing: 'dialing', joined: 'joined', no_answer: 'no answer', busy: 'busy', failed: 'failed' };

/** One item; drawn again only when it changes (addItem keeps the others as they are). */
const Item = memo(function Item({ item }: { item: TimelineItem }) {
  return (
    <li class={`item item-${item.kind}${item.kind === 'line' ? ` item-${item.speaker}` : ''}`} data-testid="timeline-item" data-kind={item.kind}>
      <time dateTime={item.at} class="at">
        {formatTime(item.at)}
      </time>
      <div class="body">
        <ItemBody item={item} />
      </div>
    </li>
  );
});

function ItemBody({ item }: { item: TimelineItem }) {
  switch (item.kind) {
    case 'line':
      return (
        <p data-testid="call-line" data-seq={item.seq}>
          <LineText line={item} />
        </p>
      );
    case 'tool':
      return (
        <div class="tool">
          <p>
            <span class="kind">Tool</span> <code>{item.name}</code>{' '}
            <span class={`badge tool-${item.status}`}>{TOOL_STATUS[item.status] ?? item.status}</span>
            {item.durationMs !== null && <span class="muted"> · {msText(item.durationMs)}</span>}
          </p>
          {item.arguments !== null && (
            <details open={item.arguments.length <= 300}>
              <summary>Arguments</summary>
              <pre>{prettyJson(item.arguments)}</pre>
            </details>
          )}
          {item.result !== null && (
            <details open={item.result.length <= 300}>
              <summary>Result</summary>
              <pre>{prettyJson(item.result)}</pre>
            </details>
          )}
        </div>
      );
    case 'dtmf':
      return (
        <p>
          <span class="kind">Key pressed</span> <kbd>{item.key}</kbd>
          {item.action && <span class="muted"> · {item.action}</span>}
        </p>
      );
    case 'transfer':
      return (
        <p>
          <span class="kind">Transfer</span> to <span class="num">{item.attempt}</span>:{' '}
          <span class={`badge transfer-${item.status}`}>{TRANSFER_STATUS[item.status] ?? item.status}</span>
          {item.detail && <span class="muted"> · {item.detail}</span>}
        </p>
      );
    case 'error':
      return (
        <p class="item-error-text">
          <span class="kind">Error</span> {item.message}
        </p>
      );
    case 'owner':
      return (
        <p data-testid="owner-item">
          <span class="kind">Taken over</span> by another replica{' '}
          <span class="muted">· {item.cause === 'handover' ? 'handed over during a rollout' : 'its replica was lost'}</span>
        </p>
      );
    case 'supervisor':
      return (
        <p data-testid="supervisor-item">
          <span class="kind">Supervisor</span> {SUPERVISOR_ACTION[item.action] ?? item.action}{' '}
          <span class={`badge supervisor-${item.status}`}>{item.status}</span>
          <span class="muted"> · {item.by}</span>
          {item.detail && <span class="muted"> · {item.detail}</span>}
        </p>
      );
    case 'end':
      return (
        <p>
          <span class="kind">Call ended</span>: {item.reason} <span class="muted">({item.status})</span>
        </p>
      );
  }
}
