import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, errorText, isAbort } from '../api';
import { applyItem, callHref, digits, mergeCall } from '../calls';
import { useFeed } from '../feed';
import { formatTime, statusText } from '../format';
import { useBump } from '../hooks';
import { replaceQuery, useLocation } from '../router';
import type { CallSummary, FeedEvent } from '../types';
import { Cell, Duration, ErrorBox, FeedIndicator, LineText, Loading, PageHeading } from '../ui';
import { VirtualList, memo } from '../virtual';

type StateFilter = 'live' | 'ended' | 'all';
const STATE_FILTERS: StateFilter[] = ['live', 'ended', 'all'];
const ENDED_PAGE = 50;

export function Live() {
  const where = useLocation();
  const params = new URLSearchParams(where.search);
  const stateParam = params.get('state');
  const stateFilter: StateFilter = STATE_FILTERS.includes(stateParam as StateFilter) ? (stateParam as StateFilter) : 'live';
  const profileFilter = params.get('profile') ?? '';
  const numberFilter = params.get('number') ?? '';

  const calls = useRef(new Map<string, CallSummary>());
  const touched = useRef<Set<string> | undefined>(undefined);
  const [version, bump] = useBump();
  // Feed events are drawn once a frame at most: a burst of them (a reset's replay, many calls talking) is one render.
  const frame = useRef(0);
  const bumpSoon = (): void => {
    if (frame.current === 0) frame.current = requestAnimationFrame(() => ((frame.current = 0), bump()));
  };
  useEffect(() => () => cancelAnimationFrame(frame.current), []);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | undefined>();
  const [reloads, setReloads] = useState(0);
  const reload = (): void => setReloads((n) => n + 1);

  useFeed((event: FeedEvent) => {
    if (event.type === 'reset') return reload();
    if (event.type === 'call') {
      calls.current.set(event.call.callId, mergeCall(calls.current.get(event.call.callId), event.call));
      touched.current?.add(event.call.callId);
      bumpSoon();
    } else if (event.type === 'timeline') {
      const call = calls.current.get(event.callId);
      if (!call) return;
      const next = applyItem(call, event.item);
      if (next !== call) {
        calls.current.set(event.callId, next);
        touched.current?.add(event.callId);
        bumpSoon();
      }
    }
  });

  useEffect(() => {
    const abort = new AbortController();
    // What the feed changes while the lists load is newer than the lists.
    touched.current = new Set();
    setError(undefined);
    Promise.all([
      api.liveCalls(abort.signal),
      api.calls({ state: 'ended', limit: String(ENDED_PAGE) }, abort.signal),
    ]).then(
      ([live, ended]) => {
        const seen = touched.current ?? new Set<string>();
        const next = new Map<string, CallSummary>();
        for (const call of [...live.calls, ...ended.calls]) next.set(call.callId, call);
        for (const id of seen) {
          const known = calls.current.get(id);
          if (known) next.set(id, mergeCall(next.get(id), known));
        }
        calls.current = next;
        touched.current = undefined;
        setLoading(false);
        bump();
      },
      (e: unknown) => {
        if (isAbort(e)) return;
        touched.current = undefined;
        setLoading(false);
        setError(errorText(e));
      },
    );
    return () => abort.abort();
  }, [reloads]);

  // Sorted and filtered when the calls or the filters change, not on every render; newest first by a key parsed once.
  const { all, shown, profiles } = useMemo(() => {
    const all = [...calls.current.values()];
    const profiles = [...new Set(all.map((c) => c.profile).filter((p): p is string => !!p))].sort();
    const wanted = digits(numberFilter);
    const shown = all
      .filter((call) => {
        if (stateFilter === 'live' && call.status !== 'active') return false;
        if (stateFilter === 'ended' && call.status === 'active') return false;
        if (profileFilter && call.profile !== profileFilter) return false;
        if (wanted && ![call.callerNumber, call.dialledNumber, call.forwardedFrom].some((n) => digits(n).includes(wanted))) return false;
        return true;
      })
      .map((call) => ({ call, at: Date.parse(call.acceptedAt) }))
      .sort((a, b) => b.at - a.at)
      .map(({ call }) => call);
    return { all, shown, profiles };
  }, [version, stateFilter, profileFilter, numberFilter]);

  const setFilter = (key: string, value: string): void => {
    const next = new URLSearchParams(location.search);
    if (value === '' || (key === 'state' && value === 'live')) next.delete(key);
    else next.set(key, value);
    replaceQuery(next);
  };

  return (
    <section>
      <div class="page-head">
        <PageHeading title="Live calls" />
        <FeedIndicator />
      </div>
      <form class="filters" role="search" aria-label="Filter calls" onSubmit={(e) => e.preventDefault()}>
        <div class="segmented" role="group" aria-label="Calls to show">
          {STATE_FILTERS.map((value) => (
            <button
              key={value}
              type="button"
              data-testid={`filter-state-${value}`}
              aria-pressed={stateFilter === value}
              onClick={() => setFilter('state', value)}
            >
              {value === 'live' ? 'Live' : value === 'ended' ? 'Ended' : 'All'}
            </button>
          ))}
        </div>
        <label>
          Profile
          <select value={profileFilter} onChange={(e) => setFilter('profile', e.currentTarget.value)}>
            <option value="">All profiles</option>
            {profiles.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
            {profileFilter && !profiles.includes(profileFilter) && <option value={profileFilter}>{profileFilter}</option>}
          </select>
        </label>
        <label>
          Number
          <input
            type="search"
            inputMode="tel"
            autoComplete="off"
            placeholder="+44…"
            value={numberFilter}
            onInput={(e) => setFilter('number', e.currentTarget.value)}
          />
        </label>
      </form>
      {error && <ErrorBox message={error} retry={reload} />}
      {loading ? (
        <Loading what="calls" />
      ) : (
        <CallList calls={shown} empty={emptyText(stateFilter, all.length > 0)} />
      )}
      {stateFilter !== 'live' && !loading && (
        <p class="muted small">
          The most recent {ENDED_PAGE} ended calls and those that ended since this page opened; older ones are in{' '}
          <a href="/console/history">History</a>.
        </p>
      )}
    </section>
  );
}

function emptyText(filter: StateFilter, filtered: boolean): string {
  if (filtered) return 'No call matches these filters.';
  return filter === 'live' ? 'No live calls right now.' : 'No calls yet.';
}

const HEAD = (
  <div class="calls-head" aria-hidden="true">
    <span>Profile</span>
    <span>Caller</span>
    <span>Dialled</span>
    <span>Duration</span>
    <span>Last line</span>
    <span>Status</span>
  </div>
);

const keyOfCall = (call: CallSummary): string => call.callId;
const rowAttributes = (call: CallSummary) => ({ 'data-testid': 'live-row', 'data-call-id': call.callId });
const liveRow = (call: CallSummary) => <CallRow call={call} />;

/** Drawn a window at a time (virtual.tsx): 1,000 live calls are a screenful of rows in the document. */
const CallList = memo(function CallList({ calls, empty }: { calls: CallSummary[]; empty: string }) {
  if (calls.length === 0) return <p class="empty">{empty}</p>;
  return <VirtualList items={calls} keyOf={keyOfCall} row={liveRow} rowAttributes={rowAttributes} estimate={44} class="calls" label="Calls" head={HEAD} />;
});

/** One call's row; drawn again only when that call changes (its duration ticks by itself). */
const CallRow = memo(function CallRow({ call }: { call: CallSummary }) {
  return (
    <a class={`row status-${call.status}`} href={callHref(call.callId)}>
      <Cell label="Profile" class="c-profile">{call.profile ?? '—'}</Cell>
      <Cell label="Caller" class="c-num">{call.callerNumber ?? 'unknown'}</Cell>
      <Cell label="Dialled" class="c-num">{call.dialledNumber ?? '—'}</Cell>
      <Cell label="Duration" class="c-duration">
        <span title={`Accepted ${formatTime(call.acceptedAt)}`}>
          <Duration call={call} />
        </span>
      </Cell>
      <Cell label="Last line" class="c-line">{call.lastLine ? <LineText line={call.lastLine} /> : <span class="muted">—</span>}</Cell>
      <Cell label="Status" class="c-status">
        <span class={`badge badge-${call.status}`}>{statusText(call)}</span>
      </Cell>
    </a>
  );
});
