import { useEffect, useState } from 'preact/hooks';

// History routing under /console/: same-origin <a href> clicks inside the app are handled here, so every page
// has a real URL (a permalink, and a reload that the bridge answers with the application).

export const BASE = '/console';

export type Route =
  | { name: 'live' }
  | { name: 'call'; callId: string }
  | { name: 'history' }
  | { name: 'stats' }
  | { name: 'signin' }
  | { name: 'notFound' };

export function match(pathname: string): Route {
  if (pathname !== BASE && !pathname.startsWith(`${BASE}/`)) return { name: 'notFound' };
  const rest = pathname.slice(BASE.length).replace(/\/+$/, '');
  if (rest === '') return { name: 'live' };
  if (rest === '/history') return { name: 'history' };
  if (rest === '/stats') return { name: 'stats' };
  if (rest === '/signin') return { name: 'signin' };
  const call = /^\/calls\/([^/]+)$/.exec(rest);
  if (call?.[1] !== undefined) {
    try {
      return { name: 'call', callId: decodeURIComponent(call[1]) };
    } catch {
      return { name: 'notFound' };
    }
  }
  return { name: 'notFound' };
}

export interface Where {
  pathname: string;
  search: string;
}

const listeners = new Set<() => void>();
let current: Where = { pathname: location.pathname, search: location.search };

function changed(): void {
  current = { pathname: location.pathname, search: location.search };
  for (const listener of listeners) listener();
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = new URL(to, location.href);
  if (url.pathname + url.search === location.pathname + location.search && !options.replace) return;
  if (options.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  changed();
  if (!options.replace) window.scrollTo(0, 0);
}

/** Changes only the query of the current page (filters), without a new history entry. */
export function replaceQuery(params: URLSearchParams): void {
  const search = params.toString();
  const url = `${location.pathname}${search ? `?${search}` : ''}`;
  if (url !== location.pathname + location.search) navigate(url, { replace: true });
}

export function useLocation(): Where {
  const [where, setWhere] = useState(current);
  useEffect(() => {
    const listener = (): void => setWhere(current);
    listeners.add(listener);
    listener();
    return () => void listeners.delete(listener);
  }, []);
  return where;
}

/** The path (and query) to come back to after signing in. */
export function currentTarget(): string {
  return location.pathname + location.search;
}

/** A `next` that is a page of the console (never another origin, never the sign-in page itself). */
export function safeNext(next: string | null): string {
  if (next === null || !next.startsWith(`${BASE}/`) || next.startsWith('//') || next.includes('\\')) return `${BASE}/`;
  if (match(new URL(next, location.origin).pathname).name === 'signin') return `${BASE}/`;
  return next;
}

export function startRouter(): void {
  window.addEventListener('popstate', changed);
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const anchor = (event.target as Element | null)?.closest?.('a');
    if (!anchor || anchor.hasAttribute('download') || (anchor.target && anchor.target !== '_self')) return;
    const url = new URL(anchor.href, location.href);
    if (url.origin !== location.origin || (url.pathname !== BASE && !url.pathname.startsWith(`${BASE}/`))) return;
    if (url.hash && url.pathname === location.pathname && url.search === location.search) return;
    if (url.pathname.startsWith(`${BASE}/api/`) || url.pathname.startsWith(`${BASE}/assets/`)) return;
    event.preventDefault();
    navigate(url.pathname + url.search + url.hash);
  });
}
