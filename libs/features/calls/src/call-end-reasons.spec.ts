import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { CallEndReasons, END_REASON_BUDGET_MS, type ClosingCall } from './call-end-reasons.js';
import { ManualClock, settle } from '#testing';

const closing: ClosingCall = { callId: 'rtc_1', reason: 'remote_closed' };

describe('CallEndReasons', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it("keeps the socket's reason when no resolver knows better", async () => {
    const reasons = new CallEndReasons(new ManualClock());
    await expect(reasons.resolve(closing)).resolves.toBe('remote_closed');
    reasons.register({ resolve: async () => undefined });
    await expect(reasons.resolve(closing)).resolves.toBe('remote_closed');
  });

  it('takes the first answer, skipping a resolver that fails (logged)', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
    const reasons = new CallEndReasons(new ManualClock());
    reasons.register({ resolve: () => Promise.reject(new Error('database gone')) });
    reasons.register({ resolve: async () => 'transferred' });
    await expect(reasons.resolve(closing)).resolves.toBe('transferred');
    expect(warn).toHaveBeenCalledWith("[rtc_1] deciding the call's end reason failed: database gone");
  });

  it('waits for a slow resolver only END_REASON_BUDGET_MS, then decides without it', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
    const clock = new ManualClock();
    const reasons = new CallEndReasons(clock);
    reasons.register({ resolve: () => new Promise(() => {}) });
    let decided: string | undefined;
    const deciding = reasons.resolve(closing).then((reason) => (decided = reason));
    clock.advance(END_REASON_BUDGET_MS - 1);
    await settle();
    expect(decided).toBeUndefined();
    clock.advance(1);
    await deciding;
    expect(decided).toBe('remote_closed');
    expect(warn).toHaveBeenCalledWith(`[rtc_1] deciding the call's end reason failed: no answer within ${END_REASON_BUDGET_MS} ms`);
    expect(clock.pending).toBe(0);
  });
});
