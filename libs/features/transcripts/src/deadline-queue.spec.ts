import { describe, expect, it } from '@jest/globals';
import { DeadlineQueue, type HasDeadline } from './deadline-queue.js';

class Entry implements HasDeadline {
  deadline = NaN;
  constructor(readonly name: string) {}
}

/** Every entry due at `now`, in the order the queue hands them out. */
function drain(queue: DeadlineQueue<Entry>, now: number): string[] {
  const due: string[] = [];
  for (let entry = queue.takeDue(now); entry !== undefined; entry = queue.takeDue(now)) due.push(entry.name);
  return due;
}

describe('DeadlineQueue', () => {
  it('has no deadline while empty, and nothing is due', () => {
    const queue = new DeadlineQueue<Entry>();
    expect(queue.next).toBeUndefined();
    expect(queue.takeDue(Number.MAX_SAFE_INTEGER)).toBeUndefined();
    expect(queue.slots).toBe(0);
  });

  it('schedules by setting the entry\'s deadline, and reports the earliest', () => {
    const queue = new DeadlineQueue<Entry>();
    const a = new Entry('a');
    const b = new Entry('b');
    expect(queue.isScheduled(a)).toBe(false);
    queue.schedule(a, 100);
    queue.schedule(b, 200);
    expect(a.deadline).toBe(100);
    expect(queue.isScheduled(a)).toBe(true);
    expect(queue.next).toBe(100);
  });

  it('hands out due entries in order, at their deadline and not a millisecond before, clearing each deadline', () => {
    const queue = new DeadlineQueue<Entry>();
    const [a, b, c] = ['a', 'b', 'c'].map((name) => new Entry(name));
    queue.schedule(a!, 100);
    queue.schedule(b!, 100);
    queue.schedule(c!, 200);
    expect(drain(queue, 99)).toEqual([]);
    expect(drain(queue, 100)).toEqual(['a', 'b']);
    expect([a!.deadline, b!.deadline, c!.deadline]).toEqual([NaN, NaN, 200]);
    expect(queue.isScheduled(a!)).toBe(false);
    expect(queue.next).toBe(200);
    expect(drain(queue, 10_000)).toEqual(['c']);
    expect(queue.next).toBeUndefined();
    expect(queue.slots).toBe(0);
  });

  it('skips a cancelled entry, and never hands it out later', () => {
    const queue = new DeadlineQueue<Entry>();
    const a = new Entry('a');
    const b = new Entry('b');
    queue.schedule(a, 100);
    queue.schedule(b, 150);
    queue.cancel(a);
    expect(queue.isScheduled(a)).toBe(false);
    expect(queue.next).toBe(150); // a's stale slot is dropped
    expect(drain(queue, 1000)).toEqual(['b']);
    queue.cancel(a); // cancelling what has no deadline is harmless
    expect(drain(queue, 1000)).toEqual([]);
  });

  it('replaces an entry\'s deadline when it is scheduled again: only the newer one counts', () => {
    const queue = new DeadlineQueue<Entry>();
    const a = new Entry('a');
    const b = new Entry('b');
    queue.schedule(a, 100);
    queue.schedule(b, 120);
    queue.schedule(a, 300);
    expect(queue.next).toBe(120);
    expect(drain(queue, 200)).toEqual(['b']);
    expect(queue.next).toBe(300);
    expect(drain(queue, 300)).toEqual(['a']);
    expect(queue.slots).toBe(0);
  });

  it('treats an entry whose deadline was changed by hand like a cancelled one (the field is the truth)', () => {
    const queue = new DeadlineQueue<Entry>();
    const a = new Entry('a');
    queue.schedule(a, 100);
    a.deadline = 50; // not through the queue: no slot holds 50
    expect(queue.next).toBeUndefined();
    expect(drain(queue, 1000)).toEqual([]);
  });

  it('holds an entry scheduled out of order until the ones queued before it are due (the FIFO precondition)', () => {
    const queue = new DeadlineQueue<Entry>();
    queue.schedule(new Entry('late'), 500);
    queue.schedule(new Entry('early'), 100);
    expect(queue.next).toBe(500);
    expect(drain(queue, 100)).toEqual([]);
    expect(drain(queue, 500)).toEqual(['late', 'early']);
  });

  it('lets the caller schedule from inside a drain (an entry due now is handed out in the same drain)', () => {
    const queue = new DeadlineQueue<Entry>();
    const a = new Entry('a');
    const b = new Entry('b');
    queue.schedule(a, 100);
    const due: string[] = [];
    for (let entry = queue.takeDue(100); entry !== undefined; entry = queue.takeDue(100)) {
      due.push(entry.name);
      if (entry === a) queue.schedule(b, 100);
    }
    expect(due).toEqual(['a', 'b']);
  });

  it('forgets every slot on clear, leaving the entries\' fields alone', () => {
    const queue = new DeadlineQueue<Entry>();
    const a = new Entry('a');
    queue.schedule(a, 100);
    queue.clear();
    expect(queue.next).toBeUndefined();
    expect(queue.slots).toBe(0);
    expect(a.deadline).toBe(100);
    expect(drain(queue, 1000)).toEqual([]);
  });

  it('does not hold on to consumed and cancelled slots: a long-lived queue stays small', () => {
    const queue = new DeadlineQueue<Entry>();
    let now = 0;
    let most = 0;
    const handedOut: string[] = [];
    for (let n = 0; n < 10_000; n++) {
      const entry = new Entry(String(n));
      queue.schedule(entry, now + 10);
      if (n % 2 === 1) queue.cancel(entry);
      now++;
      handedOut.push(...drain(queue, now));
      most = Math.max(most, queue.slots);
    }
    expect(most).toBeLessThan(600); // 10,000 scheduled, never more than a few hundred slots held
    expect(handedOut).toHaveLength(4996); // every even one that came due (0 … 9990), none of the cancelled ones
    expect(handedOut.every((name) => Number(name) % 2 === 0)).toBe(true);
    expect(drain(queue, now + 10)).toEqual(['9992', '9994', '9996', '9998']);
    expect(queue.next).toBeUndefined();
    expect(queue.slots).toBe(0);
  });

  it('compacts once most of it is consumed, and keeps handing out the rest in order', () => {
    const queue = new DeadlineQueue<Entry>();
    const entries = Array.from({ length: 1000 }, (_, n) => new Entry(String(n)));
    entries.forEach((entry, n) => queue.schedule(entry, n));
    expect(drain(queue, 199)).toHaveLength(200);
    expect(queue.slots).toBe(1000); // too few consumed yet to be worth compacting
    expect(drain(queue, 599)).toHaveLength(400);
    expect(queue.slots).toBe(400); // the 600 consumed slots were released
    expect(queue.next).toBe(600);
    expect(drain(queue, 999)).toEqual(entries.slice(600).map((entry) => entry.name));
    expect(queue.slots).toBe(0);
  });
});
