import { useEffect, useState } from 'preact/hooks';
import { api, errorText, exportCsvUrl, isAbort, type Query } from '../api';
import { callHref } from '../calls';
import { callDurationMs, dayBoundIso, durationText, formatShort, statusText } from '../format';
import { navigate, useLocation } from '../router';
import type { CallSummary } from '../types';
import { Cell, ErrorBox, Loading, PageHeading, speakerLabel } from '../ui';

const FIELDS = ['from', 'to', 'profile', 'number', 'endReason', 'q'] as const;
type Field = (typeof FIELDS)[number];
type Filters = Record<Field, string>;

function filtersOf(search: string): Filters {
  const params = new URLSearchParams(search);
  return Object.fromEntries(FIELDS.map((field) => [field, params.get(field) ?? ''])) as Filters;
}

/** The filters as the API's query: dates (local days) as ISO instants, the `to` day included whole. */
function apiQuery(filters: Filters): Query {
  return {
    state: 'all',
    from: filters.from ? (dayBoundIso(filters.from, false) ?? filters.from) : undefined,
    to: filters.to ? (dayBoundIso(filters.to, true) ?? filters.to) : undefined,
    profile: filters.profile.trim(),
    number: filters.number.trim(),
    endReason: filters.endReason.trim(),
    q: filters.q.trim(),
  };
}

export function History() {
  const where = useLocation();
  const applied = filtersOf(where.search);
  const [draft, setDraft] = useState<Filters>(applied);
  const [calls, setCalls] = useState<CallSummary[] | undefined>();
  const [cursor, setCursor] = useState<string | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [loadingMore, setLoadingMore] = useState(false);
  const [reloads, setReloads] = useState(0);

  useEffect(() => {
    setDraft(filtersOf(where.search));
    const abort = new AbortController();
    setCalls(undefined);
    setError(undefined);
    api.calls(apiQuery(filtersOf(where.search)), abort.signal).then(
      (page) => {
        setCalls(page.calls);
        setCursor(page.nextCursor);
      },
      (e: unknown) => {
        if (isAbort(e)) return;
        setCalls([]);
        setCursor(undefined);
        setError(errorText(e));
      },
    );
    return () => abort.abort();
  }, [where.search, reloads]);

  const loadMore = (): void => {
    if (!cursor) return;
    setLoadingMore(true);
    api.calls({ ...apiQuery(applied), cursor }).then(
      (page) => {
        setCalls((known) => {
          const ids = new Set((known ?? []).map((c) => c.callId));
          return [...(known ?? []), ...page.calls.filter((c) => !ids.has(c.callId))];
        });
        setCursor(page.nextCursor);
        setLoadingMore(false);
      },
      (e: unknown) => {
        setError(errorText(e));
        setLoadingMore(false);
      },
    );
  };

  const submit = (event: Event): void => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const field of FIELDS) if (draft[field].trim() !== '') params.set(field, draft[field].trim());
    const search = params.toString();
    const url = `/console/history${search ? `?${search}` : ''}`;
    if (url === location.pathname + location.search) setReloads((n) => n + 1);
    else navigate(url);
  };

  const input = (field: Field) => ({
    value: draft[field],
    onInput: (e: Event) => setDraft({ ...draft, [field]: (e.currentTarget as HTMLInputElement).value }),
  });
  const exportQuery = { ...apiQuery(applied) };

  return (
    <section>
      <div class="page-head">
        <PageHeading title="History" />
        <a class="button" href={exportCsvUrl(exportQuery)} download="calls.csv" data-testid="export-csv">
          Export CSV
        </a>
      </div>
      <form class="filters history-filters" role="search" aria-label="Search calls" onSubmit={submit}>
        <label class="wide">
          Search transcripts
          <input type="search" name="q" data-testid="search-input" placeholder="words said on the call" {...input('q')} />
        </label>
        <label>
          From
          <input type="date" name="from" {...input('from')} />
        </label>
        <label>
          To
          <input type="date" name="to" {...input('to')} />
        </label>
        <label>
          Profile
          <input type="text" name="profile" autoComplete="off" {...input('profile')} />
        </label>
        <label>
          Number
          <input type="search" name="number" inputMode="tel" autoComplete="off" placeholder="+447700900123" {...input('number')} />
        </label>
        <label>
          End reason
          <input type="text" name="endReason" autoComplete="off" {...input('endReason')} />
        </label>
        <div class="actions">
          <button type="submit" class="primary" data-testid="search-submit">
            Search
          </button>
        </div>
      </form>
      {error && <ErrorBox message={error} />}
      {calls === undefined ? (
        <Loading what="calls" />
      ) : calls.length === 0 && !cursor ? (
        !error && <p class="empty">No call matches.</p>
      ) : (
        <>
          {calls.length === 0 ? (
            // A search of many calls stops after a few thousand without a match and says where to go on: an empty
            // page with a cursor is "none yet", not "none".
            <p class="empty" data-testid="history-none-yet">
              No match among the newest calls searched so far; older calls are still to search.
            </p>
          ) : (
            <div class="calls history" role="list" aria-label="Calls">
              <div class="calls-head" aria-hidden="true">
                <span>Accepted</span>
                <span>Caller</span>
                <span>Dialled</span>
                <span>Profile</span>
                <span>Duration</span>
                <span>Status</span>
              </div>
              {calls.map((call) => (
                <div role="listitem" key={call.callId} data-testid="history-row" data-call-id={call.callId}>
                  <a class={`row status-${call.status}`} href={callHref(call.callId)}>
                    <Cell label="Accepted">{formatShort(call.acceptedAt)}</Cell>
                    <Cell label="Caller" class="c-num">{call.callerNumber ?? 'unknown'}</Cell>
                    <Cell label="Dialled" class="c-num">{call.dialledNumber ?? '—'}</Cell>
                    <Cell label="Profile">{call.profile ?? '—'}</Cell>
                    <Cell label="Duration">{durationText(callDurationMs(call, Date.now()))}</Cell>
                    <Cell label="Status">
                      <span class={`badge badge-${call.status}`}>{statusText(call)}</span>
                    </Cell>
                    {call.match && (
                      <span class="match">
                        <span class="speaker">{speakerLabel(call.match.speaker)}:</span>{' '}
                        <Highlighted text={call.match.text} ranges={call.match.highlights} />
                      </span>
                    )}
                  </a>
                </div>
              ))}
            </div>
          )}
          {cursor && (
            <p class="more">
              <button type="button" onClick={loadMore} disabled={loadingMore} data-testid="history-more">
                {loadingMore ? 'Loading…' : calls.length === 0 ? 'Search older calls' : 'Load more'}
              </button>
            </p>
          )}
        </>
      )}
    </section>
  );
}

/** `text` with the [start, end) ranges in <mark> (sorted, clamped, overlaps merged). */
export function Highlighted({ text, ranges }: { text: string; ranges: Array<[number, number]> }) {
  const merged: Array<[number, number]> = [];
  for (const [a, b] of [...ranges].sort((x, y) => x[0] - y[0])) {
    const start = Math.max(0, Math.min(text.length, a));
    const end = Math.max(start, Math.min(text.length, b));
    if (end === start) continue;
    const last = merged[merged.length - 1];
    if (last && start <= last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }
  const parts = [];
  let at = 0;
  for (const [start, end] of merged) {
    if (start > at) parts.push(text.slice(at, start));
    parts.push(
      <mark key={start} data-testid="match-highlight">
        {text.slice(start, end)}
      </mark>,
    );
    at = end;
  }
  if (at < text.length) parts.push(text.slice(at));
  return <span class="match-text">{parts}</span>;
}
