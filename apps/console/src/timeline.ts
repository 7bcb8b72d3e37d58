import type { TimelineItem } from './types';

// A call's timeline as items arrive from the feed: lines by seq (never twice), a tool run or a transfer attempt
// updated in place, the rest appended once.

function keyOf(item: TimelineItem): string {
  switch (item.kind) {
    case 'line':
      return `line:${item.seq}`;
    case 'tool':
      return `tool:${item.toolCallId}`;
    case 'transfer':
      return `transfer:${item.attempt}`;
    case 'dtmf':
      return `dtmf:${item.at}:${item.key}`;
    case 'error':
      return `error:${item.at}:${item.message}`;
    case 'owner':
      return `owner:${item.at}`;
    case 'supervisor':
      return `supervisor:${item.at}:${item.action}`;
    case 'end':
      return 'end';
  }
}

export function addItem(items: TimelineItem[], item: TimelineItem): TimelineItem[] {
  const key = keyOf(item);
  const index = items.findIndex((known) => keyOf(known) === key);
  if (index >= 0) {
    const known = items[index]!;
    let next: TimelineItem = item;
    // A finished tool run's item may come without the arguments its start carried.
    if (item.kind === 'tool' && known.kind === 'tool' && item.arguments === null) next = { ...item, arguments: known.arguments };
    const copy = items.slice();
    copy[index] = next;
    return copy;
  }
  const copy = items.slice();
  if (item.kind === 'line') {
    const later = copy.findIndex((known) => known.kind === 'line' && known.seq > item.seq);
    if (later >= 0) {
      copy.splice(later, 0, item);
      return copy;
    }
  }
  const end = item.kind === 'end' ? -1 : copy.findIndex((known) => known.kind === 'end');
  if (end >= 0) copy.splice(end, 0, item);
  else copy.push(item);
  return copy;
}

export function keyFor(item: TimelineItem): string {
  return keyOf(item);
}
