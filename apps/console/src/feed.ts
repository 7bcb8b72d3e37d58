import { useEffect, useRef, useState } from 'preact/hooks';
import { api, reportUnauthorized } from './api';
import type { FeedEvent } from './types';

// One EventSource for the whole page, opened while some view listens. The browser resumes it by itself with
// Last-Event-ID; when it gives up (a non-200 answer closes it for good), the session is checked (a 401 goes to
// sign-in) and a new stream is opened with ?lastEventId= so nothing is missed.

export type FeedState = 'live' | 'reconnecting';
type Listener = (event: FeedEvent) => void;

const listeners = new Set<Listener>();
const stateListeners = new Set<(state: FeedState) => void>();
let source: EventSource | undefined;
let state: FeedState = 'reconnecting';
let lastEventId: string | undefined;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
let retryDelayMs = 1000;

function setState(next: FeedState): void {
  if (next === state) return;
  state = next;
  for (const listener of stateListeners) listener(state);
}

function onMessage(message: MessageEvent<string>): void {
  if (message.lastEventId) lastEventId = message.lastEventId;
  let event: FeedEvent;
  try {
    event = JSON.parse(message.data) as FeedEvent;
  } catch {
    return;
  }
  setState('live');
  retryDelayMs = 1000;
  for (const listener of [...listeners]) listener(event);
}

function open(): void {
  const url = lastEventId === undefined ? '/console/api/feed' : `/console/api/feed?lastEventId=${encodeURIComponent(lastEventId)}`;
  const es = new EventSource(url, { withCredentials: true });
  source = es;
  es.onopen = () => setState('live');
  es.onmessage = onMessage;
  // In case the stream names its events by type.
  for (const type of ['hello', 'call', 'timeline', 'reset']) es.addEventListener(type, onMessage as EventListener);
  es.onerror = () => {
    setState('reconnecting');
    if (es.readyState !== EventSource.CLOSED || source !== es) return;
    source = undefined;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (listeners.size === 0) return;
      // A 401 here sends the user to sign-in (api's handler); anything else: try the stream again.
      api.session().then(
        () => listeners.size > 0 && !source && open(),
        (error: unknown) => {
          if ((error as { status?: number }).status === 401) reportUnauthorized();
          else if (listeners.size > 0 && !source) open();
        },
      );
    }, retryDelayMs);
    retryDelayMs = Math.min(retryDelayMs * 2, 30_000);
  };
}

function close(): void {
  // The next view loads its own data: a new stream from now, not a replay on top of it.
  lastEventId = undefined;
  retryDelayMs = 1000;
  source?.close();
  source = undefined;
  if (retryTimer !== undefined) clearTimeout(retryTimer);
  retryTimer = undefined;
  setState('reconnecting');
}

export function subscribe(listener: Listener): () => void {
  listeners.add(listener);
  if (!source && retryTimer === undefined) open();
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) close();
  };
}

/** Listens to the feed while `active`; the latest handler is always the one called. */
export function useFeed(handler: Listener, active = true): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => (active ? subscribe((event) => ref.current(event)) : undefined), [active]);
}

export function useFeedState(): FeedState {
  const [value, setValue] = useState(state);
  useEffect(() => {
    stateListeners.add(setValue);
    setValue(state);
    return () => void stateListeners.delete(setValue);
  }, []);
  return value;
}
