import { describe, expect, it } from '@jest/globals';
import { Injectable, type LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { EventBus, OnBridgeEvent } from './event-bus.js';
import { EventsModule } from './events.module.js';
import type { CallEndedEvent } from './bridge-events.js';

const calls: string[] = [];

@Injectable()
class Listeners {
  @OnBridgeEvent('call.ended')
  first(event: CallEndedEvent): void {
    calls.push(`first ${event.callId}`);
    throw new Error('sync failure');
  }

  @OnBridgeEvent('call.ended')
  async second(event: CallEndedEvent): Promise<void> {
    calls.push(`second ${event.callId}`);
    await Promise.resolve();
    throw new Error('async failure');
  }

  @OnBridgeEvent('call.ended')
  @OnBridgeEvent('call.rejected')
  third(event: { callId: string }): void {
    calls.push(`third ${event.callId}`);
  }
}

class CapturingLogger implements LoggerService {
  readonly errors: string[] = [];
  log(): void {}
  warn(): void {}
  error(message: unknown): void {
    this.errors.push(String(message));
  }
}

describe('@OnBridgeEvent listeners', () => {
  it('run synchronously in emit, in order, each once per event it names; a failure is logged and reaches no one else', async () => {
    const module = await Test.createTestingModule({ imports: [EventsModule], providers: [Listeners] }).compile();
    const logger = new CapturingLogger();
    module.useLogger(logger);
    await module.init();
    const bus = module.get(EventBus);
    calls.length = 0;

    expect(() => bus.emit('call.ended', { callId: 'rtc_1', reason: 'remote_closed', acceptedAt: new Date(), endedAt: new Date() } as CallEndedEvent)).not.toThrow();
    expect(calls).toEqual(['first rtc_1', 'second rtc_1', 'third rtc_1']);
    bus.emit('call.rejected', { callId: 'rtc_2', reason: 'caller_gone' } as never);
    expect(calls).toEqual(['first rtc_1', 'second rtc_1', 'third rtc_1', 'third rtc_2']);

    await new Promise((resolve) => setImmediate(resolve));
    expect(logger.errors).toEqual([
      'Listeners.first failed on call.ended: sync failure',
      'Listeners.second failed on call.ended: async failure',
    ]);
    await module.close();
  });
});
