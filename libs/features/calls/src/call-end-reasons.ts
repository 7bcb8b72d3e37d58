import { Injectable, Logger } from '@nestjs/common';
import type { CallContext, CallEndReason } from '#events';
import { Clock, errorMessage, withTimeout } from '#resilience';

/** A call whose sideband just closed, as the calls library saw it. */
export interface ClosingCall {
  callId: string;
  /** What the socket's close says (`remote_closed`: OpenAI closed it). */
  reason: CallEndReason;
  /** The call as it was accepted (its SIP headers). */
  context?: CallContext;
}

/**
 * Knows better than the socket why some calls end (the Twilio conference library: OpenAI closing the agent's leg
 * after a human joined is a transfer, even when another replica saw the join). Registered at start-up.
 */
export interface EndReasonResolver {
  /** The reason to record instead, or undefined to keep `call.reason`. May throw or be slow: both are bounded. */
  resolve(call: ClosingCall): Promise<CallEndReason | undefined>;
}

/** The longest a closing call waits for the resolvers before its end reason is decided without them. */
export const END_REASON_BUDGET_MS = 2000;

/** The end-reason resolvers of the application; the calls library asks them, knowing none of their topologies. */
@Injectable()
export class CallEndReasons {
  private readonly logger = new Logger(CallEndReasons.name);
  private readonly resolvers: EndReasonResolver[] = [];

  constructor(private readonly clock: Clock) {}

  register(resolver: EndReasonResolver): void {
    this.resolvers.push(resolver);
  }

  /** The first resolver's answer, else the socket's reason; a resolver that fails or takes too long is skipped. */
  async resolve(call: ClosingCall): Promise<CallEndReason> {
    for (const resolver of this.resolvers) {
      try {
        const better = await withTimeout(resolver.resolve(call), END_REASON_BUDGET_MS, {
          clock: this.clock,
          message: `no answer within ${END_REASON_BUDGET_MS} ms`,
        });
        if (better) return better;
      } catch (error) {
        this.logger.warn(`[${call.callId}] deciding the call's end reason failed: ${errorMessage(error)}`);
      }
    }
    return call.reason;
  }
}
