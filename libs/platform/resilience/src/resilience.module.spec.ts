import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Clock, SystemClock } from './clock.js';
import { ResilienceModule } from './resilience.module.js';
import { ManualClock } from '#testing';

@Injectable()
class NeedsTime {
  constructor(readonly clock: Clock) {}
}
@Module({ providers: [NeedsTime] })
class FeatureModule {}

describe('ResilienceModule', () => {
  it('gives every module that injects Clock the system clock, without importing it', async () => {
    const moduleRef = await Test.createTestingModule({ imports: [ResilienceModule, FeatureModule] }).compile();
    expect(moduleRef.get(NeedsTime).clock).toBeInstanceOf(SystemClock);
    expect(moduleRef.get(Clock)).toBe(moduleRef.get(NeedsTime).clock);
  });

  it('lets a spec swap in a ManualClock', async () => {
    const manual = new ManualClock();
    const moduleRef = await Test.createTestingModule({ imports: [ResilienceModule, FeatureModule] })
      .overrideProvider(Clock)
      .useValue(manual)
      .compile();
    expect(moduleRef.get(NeedsTime).clock).toBe(manual);
  });
});
