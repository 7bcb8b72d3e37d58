import { useEffect, useRef, useState } from 'preact/hooks';

/** The time now, ticking each second while `active` (live durations). */
export function useNow(active = true): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return undefined;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
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
