import { describe, expect, it } from '@jest/globals';
import { ManualClock, settle } from './manual-clock.js';

describe('ManualClock', () => {
  it('starts where it is told and moves only when advanced', () => {
    expect(new ManualClock().now()).toBe(Date.UTC(2026, 0, 1));
    const clock = new ManualClock(new Date('2026-06-01T00:00:00Z'));
    expect(clock.now()).toBe(Date.UTC(2026, 5, 1));
    clock.advance(1500);
    expect(clock.now()).toBe(Date.UTC(2026, 5, 1) + 1500);
  });

  it('fires the timers that fall due, in time order, each with the clock at its own time', () => {
    const clock = new ManualClock(0);
    const fired: Array<[string, number]> = [];
    clock.setTimeout(() => fired.push(['late', clock.now()]), 300);
    clock.setTimeout(() => fired.push(['early', clock.now()]), 100);
    clock.setTimeout(() => fired.push(['same time, set second', clock.now()]), 300);
    clock.advance(299);
    expect(fired).toEqual([['early', 100]]);
    clock.advance(1);
    expect(fired).toEqual([
      ['early', 100],
      ['late', 300],
      ['same time, set second', 300],
    ]);
    expect(clock.pending).toBe(0);
  });

  it('fires timers set by a timer when they fall due within the same advance', () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    const tick = () => {
      fired.push(clock.now());
      clock.setTimeout(tick, 100);
    };
    clock.setTimeout(tick, 100);
    clock.advance(350);
    expect(fired).toEqual([100, 200, 300]);
    expect(clock.nextIn).toBe(50);
  });

  it('never fires a cleared timer', () => {
    const clock = new ManualClock(0);
    let fired = false;
    const timer = clock.setTimeout(() => (fired = true), 10);
    clock.clearTimeout(timer);
    clock.clearTimeout(undefined);
    clock.advance(100);
    expect(fired).toBe(false);
    expect(clock.nextIn).toBeUndefined();
  });

  it('lets promise callbacks run between timers with advanceAsync (a loop that sleeps, wakes and sleeps again)', async () => {
    const clock = new ManualClock(0);
    const woke: number[] = [];
    void (async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(100);
        woke.push(clock.now());
      }
    })();
    // Synchronous: the first wait ends, but the loop runs on only after the clock has reached 300, and its second
    // wait was not set in time to fire.
    clock.advance(300);
    await settle();
    expect(woke).toEqual([300]);
    expect(clock.nextIn).toBe(100);
    await clock.advanceAsync(300);
    expect(woke).toEqual([300, 400, 500]);
  });

  it('runs every pending timer with runAll, and refuses a loop that never ends', async () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.now()), 5000);
    clock.setTimeout(() => fired.push(clock.now()), 10);
    await clock.runAll();
    expect(fired).toEqual([10, 5000]);

    const forever = () => void clock.setTimeout(forever, 1);
    forever();
    await expect(clock.runAll(50)).rejects.toThrow(/still timers pending after 50/);
  });

  it('tells a spec when code has set its timer (whenPending)', async () => {
    const clock = new ManualClock(0);
    let ready = false;
    const waiting = clock.whenPending(2).then(() => (ready = true));
    clock.setTimeout(() => {}, 10);
    await settle();
    expect(ready).toBe(false);
    clock.setTimeout(() => {}, 10);
    await waiting;
    expect(ready).toBe(true);
    await expect(clock.whenPending(1)).resolves.toBeUndefined();
  });
});
