import { describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { OrderedRetryQueue } from './ordered-retry-queue.js';

const silent = new Logger('test');
silent.error = () => {};

function recordingQueue(options: { lingerMs?: number; failFirstWrite?: (queue: OrderedRetryQueue<number>) => void } = {}) {
  const writes: number[][] = [];
  let fail = options.failFirstWrite;
  const queue: OrderedRetryQueue<number> = new OrderedRetryQueue<number>({
    what: 'numbers',
    logger: silent,
    lingerMs: options.lingerMs,
    take: (items) => items.length,
    apply: async (items) => {
      if (fail) {
        const during = fail;
        fail = undefined;
        during(queue);
        throw new Error('database unavailable');
      }
      writes.push([...items]);
    },
  });
  return { queue, writes };
}

describe('OrderedRetryQueue', () => {
  it('gathers what is pushed in the same moment into one write', async () => {
    const { queue, writes } = recordingQueue();
    queue.push(1);
    queue.push(2);
    queue.push(3, 4);
    expect(writes).toEqual([]); // nothing is written synchronously
    await queue.flush();
    expect(writes).toEqual([[1, 2, 3, 4]]);
  });

  it('gathers pushes spread over the linger time, and starts a new write for later ones', async () => {
    const { queue, writes } = recordingQueue({ lingerMs: 30 });
    queue.push(1);
    setTimeout(() => queue.push(2), 5);
    await queue.flush();
    queue.push(3);
    await queue.flush();
    expect(writes).toEqual([[1, 2], [3]]);
  });

  it('retries a failed write and lets nothing overtake it', async () => {
    const { queue, writes } = recordingQueue({ failFirstWrite: (q) => q.push(3) });
    queue.push(1, 2);
    await queue.flush();
    expect(writes.flat()).toEqual([1, 2, 3]);
    expect(queue.backlog).toBe(0);
  });
});
