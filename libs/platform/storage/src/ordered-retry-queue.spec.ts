import { describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { OrderedRetryQueue } from './ordered-retry-queue.js';
import { ManualClock, settle } from '#testing';

function recordingQueue(
  options: { lingerMs?: number; failFirstWrite?: (queue: OrderedRetryQueue<number>) => void; failures?: number; clock?: ManualClock; maxBackoffMs?: number } = {},
) {
  const writes: number[][] = [];
  const errors: string[] = [];
  const logger = new Logger('test');
  logger.error = (message: unknown) => void errors.push(String(message));
  let fail = options.failFirstWrite;
  let failures = options.failures ?? 0;
  const queue: OrderedRetryQueue<number> = new OrderedRetryQueue<number>({
    what: 'numbers',
    logger,
    lingerMs: options.lingerMs,
    clock: options.clock,
    maxBackoffMs: options.maxBackoffMs,
    take: (items) => items.length,
    apply: async (items) => {
      if (fail) {
        const during = fail;
        fail = undefined;
        during(queue);
        throw new Error('database unavailable');
      }
      if (failures > 0) {
        failures--;
        throw new Error('connect failed for postgres://bridge:hunter2@db/calls');
      }
      writes.push([...items]);
    },
  });
  return { queue, writes, errors };
}

describe('OrderedRetryQueue', () => {
  it('gathers what is pushed in the same moment into one write', async () => {
    const clock = new ManualClock();
    const { queue, writes } = recordingQueue({ clock });
    queue.push(1);
    queue.push(2);
    queue.push(3, 4);
    expect(writes).toEqual([]); // nothing is written synchronously
    await clock.advanceAsync(10); // the default linger
    await queue.flush();
    expect(writes).toEqual([[1, 2, 3, 4]]);
  });

  it('gathers pushes spread over the linger time, and starts a new write for later ones', async () => {
    const clock = new ManualClock();
    const { queue, writes } = recordingQueue({ lingerMs: 30, clock });
    queue.push(1);
    clock.setTimeout(() => queue.push(2), 5);
    await clock.advanceAsync(29);
    expect(writes).toEqual([]); // still lingering
    await clock.advanceAsync(1);
    await queue.flush();
    queue.push(3);
    await clock.advanceAsync(30);
    await queue.flush();
    expect(writes).toEqual([[1, 2], [3]]);
  });

  it('retries a failed write and lets nothing overtake it', async () => {
    const clock = new ManualClock();
    const { queue, writes } = recordingQueue({ clock, failFirstWrite: (q) => q.push(3) });
    queue.push(1, 2);
    await clock.advanceAsync(10 + 100); // the linger, the failed write, its backoff
    await queue.flush();
    expect(writes.flat()).toEqual([1, 2, 3]);
    expect(queue.backlog).toBe(0);
  });

  it('backs off from 100 ms, doubling up to maxBackoffMs, logging each failure without secrets', async () => {
    const clock = new ManualClock();
    const { queue, writes, errors } = recordingQueue({ clock, failures: 5, maxBackoffMs: 400 });
    const waits: number[] = [];
    const start = clock.now();
    queue.push(1);
    await clock.advanceAsync(10); // the linger, then the first attempt
    expect(errors).toHaveLength(1);
    while (writes.length === 0) {
      waits.push(clock.nextIn!);
      await clock.advanceAsync(clock.nextIn!);
    }
    expect(waits).toEqual([100, 200, 400, 400, 400]);
    await queue.flush();
    expect(writes).toEqual([[1]]);
    expect(clock.now() - start).toBe(10 + 1500);
    expect(errors).toHaveLength(5);
    expect(errors[0]).toBe('storing numbers failed (1 waiting), retrying: connect failed for postgres://[redacted]');
  });

  it('gives up when shutdown runs out of time: it says what is left and retries no more', async () => {
    const clock = new ManualClock();
    const { queue, writes, errors } = recordingQueue({ clock, failures: Infinity });
    queue.push(1, 2);
    await clock.advanceAsync(10);
    const flushed = queue.flushWithin(1000);
    await clock.advanceAsync(1000);
    expect(await flushed).toBe(false);
    expect(errors.at(-1)).toBe('shutting down with 2 write(s) of numbers not stored');
    const logged = errors.length;
    await clock.advanceAsync(60_000);
    await settle();
    expect(errors).toHaveLength(logged);
    expect(clock.pending).toBe(0);
    expect(writes).toEqual([]);
    expect(queue.backlog).toBe(2);
    await queue.flush(); // the drain has ended
  });

  it('reports a flush within the time as done', async () => {
    const clock = new ManualClock();
    const { queue, writes } = recordingQueue({ clock });
    queue.push(7);
    const flushed = queue.flushWithin(1000);
    await clock.advanceAsync(10);
    expect(await flushed).toBe(true);
    expect(writes).toEqual([[7]]);
    expect(clock.pending).toBe(0);
  });
});
