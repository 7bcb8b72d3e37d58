import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { EventEmitter2 } from '@nestjs/event-emitter';
import type { BridgeEventName, BridgeEvents } from './bridge-events.js';
import { errorMessage } from '#resilience';

/** The typed face of the in-process bus: a wrong event name or payload is a compile error. */
@Injectable()
export class EventBus {
  constructor(private readonly emitter: EventEmitter2) {}

  emit<K extends BridgeEventName>(name: K, payload: BridgeEvents[K]): void {
    this.emitter.emit(name, payload);
  }

  /** Subscribes outside of Nest providers (demo, tests); returns the unsubscribe function. */
  on<K extends BridgeEventName>(name: K, listener: (payload: BridgeEvents[K]) => void): () => void {
    this.emitter.on(name, listener);
    return () => this.emitter.off(name, listener);
  }
}

type Listener<K extends BridgeEventName> = (payload: BridgeEvents[K]) => unknown;

/** The events each decorated method listens to (methods are keyed by their function, set once at class definition). */
const LISTENS_TO = new WeakMap<object, BridgeEventName[]>();

/**
 * Marks a provider's method as a listener of one bus event, with the payload type checked against the event map.
 * Listeners run synchronously in `emit`, in registration order; an error they throw, or a promise they return that
 * rejects, is logged and never reaches the emitter or the other listeners.
 */
export function OnBridgeEvent<K extends BridgeEventName>(name: K) {
  return <T extends Listener<K>>(_target: object, _key: string | symbol, descriptor: TypedPropertyDescriptor<T>) => {
    const method = descriptor.value;
    if (typeof method !== 'function') throw new Error('@OnBridgeEvent goes on a method');
    LISTENS_TO.set(method, [...(LISTENS_TO.get(method) ?? []), name]);
  };
}

/**
 * Subscribes every `@OnBridgeEvent` method of every provider when the application starts. It replaces
 * `@nestjs/event-emitter`'s `@OnEvent` discovery, which runs each listener inside an `async` wrapper: one promise per
 * listener per event, on the sideband's per-event path (the realtime events of every call), where most listeners are
 * synchronous. The emitter itself is still `@nestjs/event-emitter`'s EventEmitter2.
 */
@Injectable()
export class BridgeEventListeners implements OnApplicationBootstrap {
  private readonly logger = new Logger(EventBus.name);

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly emitter: EventEmitter2,
  ) {}

  onApplicationBootstrap(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | undefined;
      if (!instance || typeof instance !== 'object' || !wrapper.isDependencyTreeStatic()) continue;
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (!prototype) continue;
      for (const key of this.scanner.getAllMethodNames(prototype)) {
        const method = instance[key];
        const events = typeof method === 'function' ? LISTENS_TO.get(method) : undefined;
        if (!events) continue;
        for (const event of events) this.subscribe(event, instance, method as (payload: unknown) => unknown, `${instance.constructor.name}.${key}`);
      }
    }
  }

  private subscribe(event: BridgeEventName, instance: object, method: (payload: unknown) => unknown, name: string): void {
    const failed = (error: unknown) =>
      this.logger.error(`${name} failed on ${event}: ${errorMessage(error)}`, error instanceof Error ? error.stack : undefined);
    this.emitter.on(event, (payload: unknown) => {
      try {
        const result = method.call(instance, payload);
        if (result instanceof Promise) result.catch(failed);
      } catch (error) {
        failed(error);
      }
    });
  }
}
