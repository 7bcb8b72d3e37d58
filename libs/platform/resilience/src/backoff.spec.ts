import { describe, expect, it } from '@jest/globals';
import { backoffDelay, equalJitter, fullJitter, noJitter, upwardJitter } from './backoff.js';

const fixed = (value: number) => () => value;

describe('backoffDelay', () => {
  it('doubles from the initial delay, attempt after attempt', () => {
    const policy = { initialDelayMs: 100, jitter: noJitter };
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, policy))).toEqual([100, 200, 400, 800, 1600]);
  });

  it('stops growing at maxDelayMs, however many failures (no overflow)', () => {
    const policy = { initialDelayMs: 100, maxDelayMs: 5000, jitter: noJitter };
    expect([6, 7, 8, 2000].map((attempt) => backoffDelay(attempt, policy))).toEqual([3200, 5000, 5000, 5000]);
    expect(backoffDelay(5000, { initialDelayMs: 0, maxDelayMs: 100, jitter: noJitter })).toBe(0);
  });

  it('takes another factor', () => {
    expect(backoffDelay(3, { initialDelayMs: 10, factor: 3, jitter: noJitter })).toBe(90);
  });

  it('spreads the delay with equal jitter by default: at least half, at most all of it', () => {
    const policy = { initialDelayMs: 1000 };
    expect(backoffDelay(1, policy, fixed(0))).toBe(500);
    expect(backoffDelay(1, policy, fixed(0.5))).toBe(750);
    expect(backoffDelay(1, policy, fixed(0.999))).toBeCloseTo(999.5);
    for (let i = 0; i < 100; i++) {
      const delay = backoffDelay(3, policy);
      expect(delay).toBeGreaterThanOrEqual(2000);
      expect(delay).toBeLessThan(4000);
    }
  });

  it('jitters the capped delay, not the uncapped one', () => {
    expect(backoffDelay(10, { initialDelayMs: 100, maxDelayMs: 1000, jitter: fullJitter }, fixed(0.5))).toBe(500);
  });
});

describe('jitters', () => {
  it('full: anywhere from nothing to the whole delay', () => {
    expect(fullJitter(1000, 0)).toBe(0);
    expect(fullJitter(1000, 0.25)).toBe(250);
  });

  it('equal: half for sure, the other half at random', () => {
    expect(equalJitter(1000, 0)).toBe(500);
    expect(equalJitter(1000, 0.5)).toBe(750);
  });

  it('none: the delay as computed', () => {
    expect(noJitter(1234, 0.9)).toBe(1234);
  });

  it('upward: never less than the delay, at most the fraction more', () => {
    const tenPercent = upwardJitter(0.1);
    expect(tenPercent(1000, 0)).toBe(1000);
    expect(tenPercent(1000, 0.5)).toBe(1050);
    expect(tenPercent(1000, 0.999)).toBeLessThan(1100);
  });
});
