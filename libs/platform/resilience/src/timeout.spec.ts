import { describe, expect, it } from '@jest/globals';
import { TimeoutError, withTimeout, withTimeoutOr } from './timeout.js';
import { ManualClock } from '#testing';

/** A promise settled by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('withTimeout', () => {
  it('is the promise when it settles in time, and clears its timer', async () => {
    const clock = new ManualClock();
    const work = deferred<string>();
    const bounded = withTimeout(work.promise, 1000, { clock });
    expect(clock.pending).toBe(1);
    clock.advance(999);
    work.resolve('done');
    await expect(bounded).resolves.toBe('done');
    expect(clock.pending).toBe(0);
  });

  it('passes a rejection in time on as it is', async () => {
    const clock = new ManualClock();
    const failure = new Error('refused');
    const bounded = withTimeout(Promise.reject(failure), 1000, { clock });
    await expect(bounded).rejects.toBe(failure);
    expect(clock.pending).toBe(0);
  });

  it('rejects with a TimeoutError saying how long it waited once the time is up', async () => {
    const clock = new ManualClock();
    const bounded = withTimeout(new Promise(() => {}), 2000, { clock });
    clock.advance(2000);
    const error = await bounded.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ name: 'TimeoutError', message: 'timed out after 2000 ms', timeoutMs: 2000 });
  });

  it('takes the message of its TimeoutError', async () => {
    const clock = new ManualClock();
    const bounded = withTimeout(new Promise(() => {}), 50, { clock, message: 'no answer within 50 ms' });
    clock.advance(50);
    await expect(bounded).rejects.toThrow(new TimeoutError(50, 'no answer within 50 ms'));
  });

  it('ignores what the promise does after the time is up (a late rejection is not unhandled)', async () => {
    const clock = new ManualClock();
    const work = deferred<string>();
    const bounded = withTimeout(work.promise, 10, { clock });
    clock.advance(10);
    await expect(bounded).rejects.toBeInstanceOf(TimeoutError);
    work.reject(new Error('late'));
    await new Promise((resolve) => setImmediate(resolve));
  });

  it('sets no timer for a limit that is not finite', async () => {
    const clock = new ManualClock();
    const work = deferred<number>();
    const bounded = withTimeout(work.promise, Infinity, { clock });
    expect(clock.pending).toBe(0);
    work.resolve(1);
    await expect(bounded).resolves.toBe(1);
  });

  it('runs on the system clock by default, its timer never holding the process', async () => {
    await expect(withTimeout(Promise.resolve('now'), 60_000)).resolves.toBe('now');
  });
});

describe('withTimeoutOr', () => {
  it('is the promise when it settles in time', async () => {
    const clock = new ManualClock();
    await expect(withTimeoutOr(Promise.resolve(true), 100, false, { clock })).resolves.toBe(true);
    expect(clock.pending).toBe(0);
  });

  it('resolves to the fallback once the time is up', async () => {
    const clock = new ManualClock();
    const bounded = withTimeoutOr(new Promise<boolean>(() => {}), 5000, false, { clock });
    clock.advance(4999);
    let settled = false;
    void bounded.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    clock.advance(1);
    await expect(bounded).resolves.toBe(false);
  });

  it('still rejects when the promise rejects in time', async () => {
    const clock = new ManualClock();
    await expect(withTimeoutOr(Promise.reject(new Error('broken')), 100, undefined, { clock })).rejects.toThrow('broken');
    expect(clock.pending).toBe(0);
  });
});
