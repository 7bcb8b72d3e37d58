import { Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { BridgeEventListeners, EventBus } from './event-bus.js';

@Global()
@Module({
  imports: [DiscoveryModule, EventEmitterModule.forRoot({ wildcard: false, maxListeners: 50, verboseMemoryLeak: true })],
  providers: [EventBus, BridgeEventListeners],
  exports: [EventBus],
})
export class EventsModule {}
