import { Component, h, type ComponentChildren, type ComponentType, type FunctionComponent } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

// Long lists drawn a window at a time: only the rows on screen (and a screen's worth either side) are in the document,
// between two spacers as tall as the rows they stand for. The page itself scrolls (no inner scroll box), so the list
// reads and scrolls like the others. Rows may differ in height: each one drawn is measured and remembered by key;
// those never drawn count as the average of those measured.
//
// Keyboard: every row is still one Tab stop (the browser scrolls a focused row into view, which moves the window
// before the next Tab); ArrowDown/ArrowUp move between rows, Home/End go to the first/last, whether drawn or not.
// Each row says its place (aria-posinset of aria-setsize), so a screen reader announces "3 of 1,000".
// Not possible: the browser's find-in-page sees only the drawn rows (the pages' own filters search all of them).

/** A component that re-renders only when a prop changes (by identity). */
export function memo<P extends object>(render: FunctionComponent<P>): ComponentType<P> {
  class Memo extends Component<P> {
    override shouldComponentUpdate(next: P): boolean {
      const prev = this.props as Record<string, unknown>;
      const props = next as Record<string, unknown>;
      for (const key in props) if (props[key] !== prev[key]) return true;
      for (const key in prev) if (!(key in props)) return true;
      return false;
    }
    override render(props: P) {
      return h(render, props);
    }
  }
  return Memo;
}

interface Props<T> {
  items: readonly T[];
  keyOf: (item: T) => string;
  /** One row's content, inside the role=listitem element this list draws. */
  row: (item: T) => ComponentChildren;
  /** Attributes of each row's element besides its role, key and place. */
  rowAttributes?: (item: T) => Record<string, string>;
  /** Rows' height before any is measured, px. */
  estimate: number;
  class: string;
  label: string;
  /** Drawn first inside the list (a column header, aria-hidden). */
  head?: ComponentChildren;
}

/** Px drawn beyond each edge of the viewport. */
const OVERSCAN_PX = 800;

export function VirtualList<T>({ items, keyOf, row, rowAttributes, estimate, class: className, label, head }: Props<T>) {
  const list = useRef<HTMLDivElement>(null);
  const heights = useRef(new Map<string, number>());
  const [view, setView] = useState(() => ({ top: 0, bottom: (typeof innerHeight === 'number' ? innerHeight : 800) + OVERSCAN_PX }));
  const [, setMeasured] = useState(0);
  const focused = useRef<string | undefined>(undefined);
  const focusNext = useRef<string | undefined>(undefined);

  // Offsets of every row from the list's first row (measured heights, else the average of the measured ones).
  let sum = 0;
  let measuredCount = 0;
  for (const height of heights.current.values()) {
    sum += height;
    measuredCount++;
  }
  const average = measuredCount > 0 ? sum / measuredCount : estimate;
  const keys = items.map(keyOf);
  const offsets = new Float64Array(items.length + 1);
  for (let i = 0; i < items.length; i++) offsets[i + 1] = offsets[i]! + (heights.current.get(keys[i]!) ?? average);

  // The window: the rows that overlap [view.top, view.bottom] (list coordinates), and the focused row if it is near.
  let start = firstAbove(offsets, view.top);
  let end = Math.min(items.length, firstAbove(offsets, view.bottom) + 1);
  const focusIndex = focused.current === undefined ? -1 : keys.indexOf(focused.current);
  if (focusIndex >= 0 && focusIndex >= start - 50 && focusIndex < end + 50) {
    start = Math.min(start, focusIndex);
    end = Math.max(end, focusIndex + 1);
  }
  const pendingFocus = focusNext.current === undefined ? -1 : keys.indexOf(focusNext.current);
  if (pendingFocus >= 0) {
    start = Math.min(start, pendingFocus);
    end = Math.max(end, pendingFocus + 1);
  }

  // Where the viewport is over the list, on scroll and resize (once a frame at most).
  useEffect(() => {
    let frame = 0;
    const update = (): void => {
      frame = 0;
      const element = list.current;
      if (!element) return;
      const next = viewOf(element);
      // A new window only when the old one no longer covers the viewport well (half the overscan left).
      setView((old) => (Math.abs(old.top - next.top) < OVERSCAN_PX / 2 && Math.abs(old.bottom - next.bottom) < OVERSCAN_PX / 2 ? old : next));
    };
    const schedule = (): void => {
      if (frame === 0) frame = requestAnimationFrame(update);
    };
    addEventListener('scroll', schedule, { passive: true });
    addEventListener('resize', schedule, { passive: true });
    update();
    return () => {
      removeEventListener('scroll', schedule);
      removeEventListener('resize', schedule);
      if (frame !== 0) cancelAnimationFrame(frame);
    };
  }, []);

  // Measures the drawn rows (one layout, which the paint needs anyway); draws again if a height was not known.
  useLayoutEffect(() => {
    const element = list.current;
    if (!element) return;
    let changed = false;
    for (const child of element.querySelectorAll<HTMLElement>(':scope > [data-vkey]')) {
      const key = child.dataset['vkey']!;
      const height = child.getBoundingClientRect().height;
      if (height > 0 && Math.abs((heights.current.get(key) ?? -1) - height) > 0.5) {
        heights.current.set(key, height);
        changed = true;
      }
    }
    if (heights.current.size > items.length * 2 + 100) {
      const live = new Set(keys);
      for (const key of heights.current.keys()) if (!live.has(key)) heights.current.delete(key);
    }
    const target = focusNext.current;
    if (target !== undefined) {
      const next = element.querySelector<HTMLElement>(`:scope > [data-vkey="${CSS.escape(target)}"]`);
      if (next) {
        focusNext.current = undefined;
        (next.querySelector<HTMLElement>('a, button, [tabindex]') ?? next).focus();
      }
    }
    if (changed) setMeasured((n) => n + 1);
  });

  const move = (event: KeyboardEvent): void => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const from = focused.current === undefined ? -1 : keys.indexOf(focused.current);
    if (from < 0) return;
    const to =
      event.key === 'ArrowDown' ? from + 1 : event.key === 'ArrowUp' ? from - 1 : event.key === 'Home' ? 0 : event.key === 'End' ? items.length - 1 : -1;
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp' && event.key !== 'Home' && event.key !== 'End') return;
    event.preventDefault();
    if (to < 0 || to >= items.length || to === from) return;
    focusNext.current = keys[to];
    const element = list.current;
    if (element) {
      // Bring the row's place on screen; the scroll moves the window, and the row is focused once drawn.
      const listTop = element.getBoundingClientRect().top + scrollY;
      const rowTop = listTop + offsets[to]!;
      const rowBottom = listTop + offsets[to + 1]!;
      if (rowTop < scrollY) scrollTo({ top: rowTop });
      else if (rowBottom > scrollY + innerHeight) scrollTo({ top: rowBottom - innerHeight });
      // The window follows now, not on the scroll event's frame: a render in between (the new row measured) would
      // draw the old window, take the newly focused row out of the document and lose the focus.
      setView(viewOf(element));
    }
    setMeasured((n) => n + 1);
  };

  const rows = [];
  for (let i = start; i < end; i++) {
    const item = items[i]!;
    const key = keys[i]!;
    rows.push(
      <div role="listitem" key={key} data-vkey={key} aria-setsize={items.length} aria-posinset={i + 1} {...rowAttributes?.(item)}>
        {row(item)}
      </div>,
    );
  }
  return (
    <div
      ref={list}
      class={className}
      role="list"
      aria-label={label}
      onKeyDown={move}
      onFocusIn={(event) => {
        const key = (event.target as HTMLElement).closest<HTMLElement>('[data-vkey]')?.dataset['vkey'];
        focused.current = key;
      }}
      onFocusOut={(event) => {
        if (!list.current?.contains(event.relatedTarget as Node | null)) focused.current = undefined;
      }}
    >
      {head}
      {/* Spacers standing for the rows not drawn; their height is set through the CSSOM (no style attribute). */}
      <div class="v-spacer" aria-hidden="true" style={{ height: `${offsets[start]}px` }} />
      {rows}
      <div class="v-spacer" aria-hidden="true" style={{ height: `${offsets[items.length]! - offsets[end]!}px` }} />
    </div>
  );
}

/** The part of the list (its own coordinates) from a screen above the viewport to a screen below it. */
function viewOf(list: HTMLElement): { top: number; bottom: number } {
  const top = -list.getBoundingClientRect().top;
  return { top: top - OVERSCAN_PX, bottom: top + innerHeight + OVERSCAN_PX };
}

/** The first index whose row ends below `y` (offsets[i + 1] > y), or the last row. */
function firstAbove(offsets: Float64Array, y: number): number {
  const rows = offsets.length - 1;
  let lo = 0;
  let hi = rows;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (offsets[mid + 1]! > y) hi = mid;
    else lo = mid + 1;
  }
  return Math.min(lo, Math.max(0, rows - 1));
}
