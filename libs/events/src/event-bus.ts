import { Injectable } from '@nestjs/common';
import { EventEmitter2, OnEvent, type OnEventOptions } from '@nestjs/event-emitter';
import type { BridgeEventName, BridgeEvents } from './bridge-events.js';

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

/** `@OnEvent` with the payload type checked against the event map. Errors in listeners are logged, not thrown. */
export function OnBridgeEvent<K extends BridgeEventName>(name: K, options?: OnEventOptions) {
  const decorator = OnEvent(name, { suppressErrors: true, ...options });
  return <T extends Listener<K>>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<T>) =>
    decorator(target, key, descriptor);
}
