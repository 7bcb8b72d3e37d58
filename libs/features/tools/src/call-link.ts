import { Injectable } from '@nestjs/common';
import { CallSessions, OpenAICallControl } from '#calls';
import type { CallEndReason, RealtimeClientEvent } from '#events';

/**
 * The only way tools reach a call: client events on its sideband and the call-control REST requests, through
 * the calls library's own services. Abstract so that tests and the benchmark can stand in for the network.
 */
export abstract class CallLink {
  /** Sends a client event; false when the call is no longer attached. */
  abstract send(callId: string, event: RealtimeClientEvent): boolean;
  abstract hangup(callId: string): Promise<void>;
  abstract refer(callId: string, targetUri: string): Promise<void>;
  /**
   * Says how the call's coming close is to be reported (`transferred`: a warm transfer is ending the agent's leg),
   * or takes that back with `undefined`; false when the call is not attached here (a stand-in link never is).
   */
  expectEnd(_callId: string, _reason: CallEndReason | undefined): boolean {
    return false;
  }
}

@Injectable()
export class RealtimeCallLink extends CallLink {
  constructor(
    private readonly sessions: CallSessions,
    private readonly control: OpenAICallControl,
  ) {
    super();
  }

  send(callId: string, event: RealtimeClientEvent): boolean {
    return this.sessions.send(callId, event);
  }

  hangup(callId: string): Promise<void> {
    return this.control.hangup(callId);
  }

  refer(callId: string, targetUri: string): Promise<void> {
    return this.control.refer(callId, targetUri);
  }

  override expectEnd(callId: string, reason: CallEndReason | undefined): boolean {
    return this.sessions.expectEnd(callId, reason);
  }
}
