import { useEffect, useRef, useState } from 'preact/hooks';

// One clock for the whole page: a single interval, running while some component shows a ticking time, so a list of
// 1,000 live calls has one timer (and only the duration texts on screen re-render each second, not the rows).
const clockListeners = new Set<(now: number) => void>();
let clockTimer: ReturnType<typeof setInterval> | undefined;

function subscribeClock(listener: (now: number) => void): () => void {
  clockListeners.add(listener);
  clockTimer ??= setInterval(() => {
    const now = Date.now();
    for (const each of clockListeners) each(now);
  }, 1000);
  return () => {
    clockListeners.delete(listener);
    if (clockListeners.size === 0 && clockTimer !== undefined) {
      clearInterval(clockTimer);
      clockTimer = undefined;
    }
  };
}

/** The time now, ticking each second while `active` (live durations), on the page's one clock. */
export function useNow(active = true): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return undefined;
    setNow(Date.now());
    return subscribeClock(setNow);
  }, [active]);
  return now;
}

/** Sets the document title and gives the page heading focus after a client-side navigation. */
let firstPage = true;
export function usePageHeading(title: string) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Console`;
  }, [title]);
  useEffect(() => {
    if (firstPage) firstPage = false;
    else ref.current?.focus({ preventScroll: true });
  }, []);
  return ref;
}

/** A number that changes to force a re-render after mutating something held in a ref. */
export function useBump(): [number, () => void] {
  const [version, setVersion] = useState(0);
  return [version, () => setVersion((v) => v + 1)];
}

/** Items drawn at first; a screenful of a call's timeline at 1280×800 is about 15. */
const FIRST_DRAWN = 40;
/** Items drawn per idle callback after that (tens of ms on a slow machine). */
const DRAWN_PER_IDLE = 60;

type Idle = (callback: () => void, options: { timeout: number }) => number;
const requestIdle: Idle =
  (globalThis as { requestIdleCallback?: Idle }).requestIdleCallback?.bind(globalThis) ?? ((callback) => setTimeout(callback, 1) as unknown as number);
const cancelIdle: (id: number) => void =
  (globalThis as { cancelIdleCallback?: (id: number) => void }).cancelIdleCallback?.bind(globalThis) ?? ((id) => clearTimeout(id));

/**
 * How many of `total` items to draw: the first screenful at once, then more in each idle callback until all are
 * there (then every new one at once). A long list is in the document whole within a fraction of a second, so the
 * browser's find-in-page, printing and a screen reader's reading see all of it, but the first screen does not wait.
 */
export function useDrawnCount(total: number): number {
  const [limit, setLimit] = useState(FIRST_DRAWN);
  useEffect(() => {
    if (limit === Infinity || total === 0) return undefined;
    if (limit >= total) {
      setLimit(Infinity);
      return undefined;
    }
    const id = requestIdle(() => setLimit((n) => (n + DRAWN_PER_IDLE >= total ? Infinity : n + DRAWN_PER_IDLE)), { timeout: 250 });
    return () => cancelIdle(id);
  }, [limit, total]);
  return limit;
}
