import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { RecentClaims } from './recent-claims.js';

describe('RecentClaims', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('refuses a key while its claim lasts, and grants it again once expired or released', () => {
    jest.useFakeTimers({ now: 0 });
    const claims = new RecentClaims(60_000);
    expect(claims.claim('a', 1000)).toBe(true);
    expect(claims.claim('a', 1000)).toBe(false);
    jest.advanceTimersByTime(1001);
    expect(claims.claim('a', 1000)).toBe(true);
    claims.release('a');
    expect(claims.claim('a', 1000)).toBe(true);
    claims.close();
  });

  it('remembers a claim across one generation and forgets it after two, without sweeping', () => {
    jest.useFakeTimers({ now: 0 });
    const claims = new RecentClaims(1000);
    expect(claims.claim('long', 10 * 60_000)).toBe(true); // capped at one generation
    jest.advanceTimersByTime(999);
    expect(claims.claim('long', 10 * 60_000)).toBe(false);
    jest.advanceTimersByTime(2001);
    expect(claims.claim('long', 10 * 60_000)).toBe(true);
    claims.close();
  });
});
