import { describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { DestinationQueue, type Notification } from './destination-queue.js';
import type { NotificationSink, RenderedMessage, SendOutcome } from './notification.js';
import type { NotificationOutbox } from '#storage';
import { ManualClock } from '#testing';

const HTTP_503: SendOutcome = { kind: 'retry', reason: 'HTTP 503' };
const DELIVERED: SendOutcome = { kind: 'delivered', waitMs: 0 };

/** A destination answering each send with the next outcome; the queue's waits run on a ManualClock. */
function destination(outcomes: SendOutcome[], options: { maxBackoffMs?: number; random?: number } = {}) {
  const clock = new ManualClock();
  const sent: Array<{ at: number; message: RenderedMessage }> = [];
  const warnings: string[] = [];
  const attempts: Array<[number[], string]> = [];
  const delivered: number[][] = [];
  const sink: NotificationSink = {
    id: 'discord:test',
    label: 'discord#test',
    send: async (message) => {
      sent.push({ at: clock.now(), message });
      return outcomes.shift() ?? DELIVERED;
    },
  };
  const outbox = {
    recordAttempt: async (ids: number[], error: string) => void attempts.push([ids, error]),
    markDelivered: async (ids: number[]) => void delivered.push(ids),
    markFailed: async () => {},
  } as unknown as NotificationOutbox;
  const logger = new Logger('test');
  logger.warn = (message: unknown) => void warnings.push(String(message));
  logger.error = () => {};
  const queue = new DestinationQueue({
    sink,
    outbox,
    logger,
    maxBackoffMs: options.maxBackoffMs ?? 60_000,
    clock,
    random: () => options.random ?? 0,
  });
  /** Lets every wait of the queue run out as it starts, until it is idle; the waits, in order. */
  const drain = async (): Promise<number[]> => {
    const waits: number[] = [];
    let idle = false;
    const done = queue.idle().then(() => (idle = true));
    while (!idle) {
      await Promise.race([clock.whenPending(), done]);
      if (clock.nextIn === undefined) continue;
      waits.push(clock.nextIn);
      clock.advance(clock.nextIn);
    }
    return waits;
  };
  return { queue, clock, sent, warnings, attempts, delivered, drain };
}

const notification = (id: number, text = `line ${id}`): Notification => ({
  id,
  destination: 'discord:test',
  callId: 'rtc_1',
  dedupeKey: `k${id}`,
  payload: { kind: 'text', text },
  status: 'pending',
  attempts: 0,
  lastError: null,
  createdAt: new Date(0),
  deliveredAt: null,
  owner: 'me',
});

describe('DestinationQueue retries', () => {
  it('backs off from 500 ms on 5xx and network errors, doubling up to maxBackoffMs, 50 ms beyond each', async () => {
    const d = destination([HTTP_503, HTTP_503, HTTP_503, { kind: 'retry', reason: 'network error ECONNRESET' }, HTTP_503], { maxBackoffMs: 3000 });
    d.queue.push([notification(1)]);
    expect(await d.drain()).toEqual([550, 1050, 2050, 3050, 3050]);
    expect(d.sent).toHaveLength(6);
    expect(d.delivered).toEqual([[1]]);
    expect(d.attempts).toEqual([
      [[1], 'HTTP 503'],
      [[1], 'HTTP 503'],
      [[1], 'HTTP 503'],
      [[1], 'network error ECONNRESET'],
      [[1], 'HTTP 503'],
    ]);
    expect(d.warnings[0]).toBe('discord#test: not delivered (HTTP 503), retrying in 550 ms');
    expect(d.queue.retries).toBe(5);
    expect(d.queue.rateLimited).toBe(0);
  });

  it("waits what a 429 asks (a little more), without touching the 5xx backoff", async () => {
    const d = destination([HTTP_503, { kind: 'retry', afterMs: 2000, reason: 'rate limited' }, HTTP_503]);
    d.queue.push([notification(1)]);
    expect(await d.drain()).toEqual([550, 2050, 1050]);
    expect(d.warnings[1]).toBe('discord#test: not delivered (rate limited), retrying in 2050 ms');
    expect(d.queue.retries).toBe(3);
    expect(d.queue.rateLimited).toBe(1);
  });

  it('spreads each wait up to a tenth more, so that replicas drift apart', async () => {
    const d = destination([HTTP_503, { kind: 'retry', afterMs: 1000, reason: 'rate limited' }], { random: 0.5 });
    d.queue.push([notification(1)]);
    expect(await d.drain()).toEqual([500 * 1.05 + 50, 1000 * 1.05 + 50]);
  });

  it('starts the backoff over once a message is delivered', async () => {
    const d = destination([HTTP_503, HTTP_503, DELIVERED, HTTP_503]);
    d.queue.push([notification(1)]);
    await d.drain();
    d.queue.push([notification(2)]);
    expect(await d.drain()).toEqual([550]);
    expect(d.delivered).toEqual([[1], [2]]);
  });

  it('honours an empty rate-limit bucket before the next send', async () => {
    const d = destination([{ kind: 'delivered', waitMs: 700 }]);
    d.queue.push([notification(1)]);
    await d.drain();
    d.queue.push([notification(2)]);
    expect(await d.drain()).toEqual([700]);
    expect(d.sent.map((s) => s.at - d.sent[0].at)).toEqual([0, 700]);
  });
});
