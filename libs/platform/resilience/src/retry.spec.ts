import { describe, expect, it, jest } from '@jest/globals';
import { noJitter } from './backoff.js';
import { retry, type RetryEvent } from './retry.js';
import { ManualClock, settle } from '#testing';

/** `fn` for retry(): fails with these errors in turn, then answers `ok`; records the clock at each attempt. */
function flaky(clock: ManualClock, failures: unknown[]) {
  const attempts: Array<{ attempt: number; at: number }> = [];
  const start = clock.now();
  const fn = async (attempt: number) => {
    attempts.push({ attempt, at: clock.now() - start });
    if (failures.length > 0) throw failures.shift();
    return 'ok';
  };
  return { fn, attempts };
}

describe('retry', () => {
  it('answers with the first attempt that works, waiting for nothing', async () => {
    const clock = new ManualClock();
    const { fn, attempts } = flaky(clock, []);
    await expect(retry(fn, { maxAttempts: 3, initialDelayMs: 100, clock })).resolves.toBe('ok');
    expect(attempts).toEqual([{ attempt: 1, at: 0 }]);
    expect(clock.pending).toBe(0);
  });

  it('waits the backoff between attempts, and tells onRetry of each', async () => {
    const clock = new ManualClock();
    const errors = [new Error('one'), new Error('two'), new Error('three')];
    const { fn, attempts } = flaky(clock, [...errors]);
    const retries: RetryEvent[] = [];
    const result = retry(fn, { maxAttempts: 5, initialDelayMs: 100, jitter: noJitter, clock, onRetry: (e) => retries.push(e) });
    await clock.advanceAsync(699);
    expect(attempts).toHaveLength(3); // the fourth is due at 100 + 200 + 400
    await clock.advanceAsync(1);
    await expect(result).resolves.toBe('ok');
    expect(attempts).toEqual([
      { attempt: 1, at: 0 },
      { attempt: 2, at: 100 },
      { attempt: 3, at: 300 },
      { attempt: 4, at: 700 },
    ]);
    expect(retries).toEqual([
      { attempt: 1, error: errors[0], delayMs: 100 },
      { attempt: 2, error: errors[1], delayMs: 200 },
      { attempt: 3, error: errors[2], delayMs: 400 },
    ]);
  });

  it('throws the last error as it was once the attempts are spent', async () => {
    const clock = new ManualClock();
    const last = Object.assign(new Error('HTTP 503'), { status: 503 });
    const { fn, attempts } = flaky(clock, [new Error('HTTP 502'), last, new Error('never reached')]);
    const result = retry(fn, { maxAttempts: 2, initialDelayMs: 50, clock });
    const settled = result.catch((e: unknown) => e);
    await clock.runAll();
    expect(await settled).toBe(last);
    expect(attempts).toHaveLength(2);
    expect(clock.pending).toBe(0);
  });

  it('does not retry what shouldRetry refuses, nor wait for it', async () => {
    const clock = new ManualClock();
    const refused = Object.assign(new Error('HTTP 401'), { status: 401 });
    const { fn, attempts } = flaky(clock, [refused]);
    const shouldRetry = jest.fn((error: unknown) => (error as { status: number }).status >= 500);
    const onRetry = jest.fn();
    await expect(retry(fn, { maxAttempts: 5, initialDelayMs: 100, shouldRetry, onRetry, clock })).rejects.toBe(refused);
    expect(shouldRetry).toHaveBeenCalledWith(refused, 1);
    expect(attempts).toHaveLength(1);
    expect(onRetry).not.toHaveBeenCalled();
    expect(clock.pending).toBe(0);
  });

  it('makes no retry whose wait would end beyond the deadline', async () => {
    const clock = new ManualClock();
    const { fn, attempts } = flaky(clock, Array.from({ length: 10 }, (_, i) => new Error(`failure ${i + 1}`)));
    const result = retry(fn, { maxAttempts: Infinity, deadlineMs: 1000, initialDelayMs: 100, jitter: noJitter, clock }).catch((e: unknown) => e);
    await clock.runAll();
    // 0, 100, 300, 700: the next wait (800 ms) would end at 1500.
    expect(attempts.map((a) => a.at)).toEqual([0, 100, 300, 700]);
    expect(await result).toEqual(new Error('failure 4'));
  });

  it('jitters each wait with the random source it is given (equal jitter by default)', async () => {
    const clock = new ManualClock();
    const { fn, attempts } = flaky(clock, [new Error('a'), new Error('b')]);
    const result = retry(fn, { maxAttempts: 3, initialDelayMs: 1000, clock, random: () => 0.5 });
    await clock.runAll();
    await expect(result).resolves.toBe('ok');
    expect(attempts.map((a) => a.at)).toEqual([0, 750, 750 + 1500]);
  });

  it('stops when its signal aborts during a wait: the wait ends and the last error is thrown', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const failure = new Error('HTTP 404');
    const { fn, attempts } = flaky(clock, [failure, new Error('not reached')]);
    const result = retry(fn, { maxAttempts: 5, initialDelayMs: 10_000, clock, signal: controller.signal }).catch((e: unknown) => e);
    await clock.whenPending();
    controller.abort();
    expect(await result).toBe(failure);
    expect(attempts).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });

  it("makes no attempt once aborted: the signal's reason is thrown when none was made", async () => {
    const fn = jest.fn(async () => 'never');
    const reason = new Error('call ended');
    await expect(retry(fn, { maxAttempts: 3, initialDelayMs: 10, signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(fn).not.toHaveBeenCalled();
  });

  it('lets an attempt under way finish when the signal aborts: its success counts', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    let finish!: () => void;
    const result = retry(() => new Promise<string>((resolve) => (finish = () => resolve('opened'))), {
      maxAttempts: 3,
      initialDelayMs: 10,
      clock,
      signal: controller.signal,
    });
    await settle();
    controller.abort();
    finish();
    await expect(result).resolves.toBe('opened');
  });

  it('does not retry an attempt that failed after the signal aborted', async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    const failure = new Error('handshake failed');
    const onRetry = jest.fn();
    const fn = jest.fn(async () => {
      controller.abort();
      throw failure;
    });
    await expect(retry(fn, { maxAttempts: 3, initialDelayMs: 10, clock, signal: controller.signal, onRetry })).rejects.toBe(failure);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(onRetry).not.toHaveBeenCalled();
    expect(clock.pending).toBe(0);
  });

  it('runs on the system clock by default', async () => {
    let calls = 0;
    await expect(retry(async () => ++calls, { maxAttempts: 1, initialDelayMs: 60_000 })).resolves.toBe(1);
  });
});
