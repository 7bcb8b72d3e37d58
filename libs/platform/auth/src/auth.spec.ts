import { describe, expect, it } from '@jest/globals';
import { AdminCredentials } from './admin-credentials.js';
import type { AuthConfig } from './auth.config.js';
import { ConsoleSessions } from './console-sessions.js';
import { satisfies } from './roles.js';
import { SigninLimiter } from './signin-limiter.js';
import { ManualClock } from '#testing';

const TOKEN = 'admin-token-0123456789';

function config(overrides: Partial<AuthConfig> = {}): AuthConfig {
  return {
    adminApiToken: TOKEN,
    sessionSecret: undefined,
    sessionTtlMs: 60 * 60_000,
    signinMaxFailures: 3,
    signinWindowMs: 60_000,
    ...overrides,
  };
}

describe('AdminCredentials', () => {
  it('grants admin to the token and nothing to any other, whatever its length', () => {
    const credentials = new AdminCredentials(config());
    expect(credentials.enabled).toBe(true);
    expect(credentials.roleOf(TOKEN)).toBe('admin');
    for (const wrong of ['', 'a', TOKEN.slice(0, -1), `${TOKEN}x`, TOKEN.toUpperCase()]) expect(credentials.roleOf(wrong)).toBeUndefined();
  });

  it('is off without a token', () => {
    const credentials = new AdminCredentials(config({ adminApiToken: undefined }));
    expect(credentials.enabled).toBe(false);
    expect(credentials.roleOf('')).toBeUndefined();
  });
});

describe('ConsoleSessions', () => {
  it('verifies its own cookie until it expires, with a CSRF token of that session only', () => {
    const clock = new ManualClock();
    const sessions = new ConsoleSessions(config(), clock);
    const issued = sessions.issue('admin');
    expect(issued.cookie).not.toContain(TOKEN);
    const verified = sessions.verify(issued.cookie);
    expect(verified).toEqual({ role: 'admin', expiresAt: issued.expiresAt, csrfToken: issued.csrfToken });
    expect(sessions.csrfMatches(verified!, issued.csrfToken)).toBe(true);
    expect(sessions.csrfMatches(verified!, sessions.issue('admin').csrfToken)).toBe(false);
    expect(sessions.csrfMatches(verified!, undefined)).toBe(false);
    clock.advance(60 * 60_000 - 1);
    expect(sessions.verify(issued.cookie)).toBeDefined();
    clock.advance(1);
    expect(sessions.verify(issued.cookie)).toBeUndefined();
  });

  it('refuses a tampered, truncated, foreign or malformed cookie', () => {
    const clock = new ManualClock();
    const sessions = new ConsoleSessions(config(), clock);
    const { cookie } = sessions.issue('viewer');
    const [version, payload, signature] = cookie.split('.');
    const forged = Buffer.from(JSON.stringify({ r: 'admin', e: clock.now() + 1e9, n: 'x' })).toString('base64url');
    const other = new ConsoleSessions(config({ adminApiToken: 'another-token-0123456789' }), clock).issue('admin').cookie;
    for (const bad of [
      `${version}.${forged}.${signature}`,
      `${version}.${payload}.${signature.slice(1)}`,
      `${version}.${payload}`,
      `v2.${payload}.${signature}`,
      other,
      '',
      'x'.repeat(5000),
      '...',
    ]) {
      expect(sessions.verify(bad)).toBeUndefined();
    }
  });

  it('signs with CONSOLE_SESSION_SECRET when set, so sessions outlive a token rotation', () => {
    const clock = new ManualClock();
    const secret = 's'.repeat(40);
    const before = new ConsoleSessions(config({ sessionSecret: secret }), clock).issue('admin');
    const after = new ConsoleSessions(config({ sessionSecret: secret, adminApiToken: 'rotated-token-0123456789' }), clock);
    expect(after.verify(before.cookie)?.role).toBe('admin');
    expect(new ConsoleSessions(config({ adminApiToken: 'rotated-token-0123456789' }), clock).verify(before.cookie)).toBeUndefined();
  });
});

describe('SigninLimiter', () => {
  it('answers a wait after SIGNIN_MAX_FAILURES wrong tokens in the window, per client, until the oldest leaves it', () => {
    const clock = new ManualClock();
    const limiter = new SigninLimiter(config(), clock);
    for (let i = 0; i < 3; i++) {
      expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(0);
      limiter.recordFailure('10.0.0.1');
      clock.advance(1000);
    }
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(57);
    expect(limiter.retryAfterSeconds('10.0.0.2')).toBe(0);
    clock.advance(57_000);
    expect(limiter.retryAfterSeconds('10.0.0.1')).toBe(0);
  });

  it('remembers a bounded number of clients', () => {
    const clock = new ManualClock();
    const limiter = new SigninLimiter(config({ signinMaxFailures: 1 }), clock);
    limiter.recordFailure('first');
    for (let i = 0; i < 10_000; i++) limiter.recordFailure(`client-${i}`);
    expect(limiter.retryAfterSeconds('first')).toBe(0);
    expect(limiter.retryAfterSeconds('client-9999')).toBeGreaterThan(0);
  });
});

describe('roles', () => {
  it('orders viewer < supervisor < admin', () => {
    expect(satisfies('admin', 'supervisor')).toBe(true);
    expect(satisfies('supervisor', 'viewer')).toBe(true);
    expect(satisfies('viewer', 'supervisor')).toBe(false);
    expect(satisfies('supervisor', 'admin')).toBe(false);
  });
});
