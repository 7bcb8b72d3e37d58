import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Clock, SystemClock } from './clock.js';
import { ManualClock } from '#testing';

describe('SystemClock', () => {
  afterEach(() => {
    jest.useRealTimers();
  });
  const clock = new SystemClock();

  it('reads the time from Date.now()', () => {
    jest.useFakeTimers({ now: 1_750_000_000_000 });
    expect(clock.now()).toBe(1_750_000_000_000);
  });

  it("sets Node's timers, which never keep the process alive unless asked to", () => {
    const quiet = clock.setTimeout(() => {}, 60_000) as unknown as NodeJS.Timeout;
    const keeping = clock.setTimeout(() => {}, 60_000, { ref: true }) as unknown as NodeJS.Timeout;
    try {
      expect(quiet.hasRef()).toBe(false);
      expect(keeping.hasRef()).toBe(true);
    } finally {
      clock.clearTimeout(quiet as never);
      clock.clearTimeout(keeping as never);
    }
    expect(() => clock.clearTimeout(undefined)).not.toThrow();
  });

  it('fires its timers when their time comes, and not once cleared (on jest fake timers: no real wait)', () => {
    jest.useFakeTimers();
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('a'), 100);
    const cleared = clock.setTimeout(() => fired.push('cleared'), 50);
    clock.clearTimeout(cleared);
    jest.advanceTimersByTime(99);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(fired).toEqual(['a']);
  });

  it('caps a delay beyond what Node takes instead of firing it at once', () => {
    jest.useFakeTimers();
    const fired = jest.fn();
    clock.setTimeout(fired, 40 * 24 * 60 * 60 * 1000);
    jest.advanceTimersByTime(60_000);
    expect(fired).not.toHaveBeenCalled();
  });
});

describe('Clock.sleep', () => {
  it('resolves once its time has passed', async () => {
    const clock: Clock = new ManualClock();
    let woke = false;
    const sleeping = clock.sleep(1000).then(() => (woke = true));
    (clock as ManualClock).advance(999);
    await Promise.resolve();
    expect(woke).toBe(false);
    (clock as ManualClock).advance(1);
    await sleeping;
    expect(woke).toBe(true);
  });

  it("rejects with the signal's reason when aborted, and clears its timer", async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const sleeping = clock.sleep(1000, { signal: controller.signal });
    expect(clock.pending).toBe(1);
    controller.abort(new Error('stopping'));
    await expect(sleeping).rejects.toThrow('stopping');
    expect(clock.pending).toBe(0);
  });

  it('rejects at once, setting no timer, when the signal has already aborted', async () => {
    const clock = new ManualClock();
    await expect(clock.sleep(1000, { signal: AbortSignal.abort(new Error('gone')) })).rejects.toThrow('gone');
    expect(clock.pending).toBe(0);
  });
});
