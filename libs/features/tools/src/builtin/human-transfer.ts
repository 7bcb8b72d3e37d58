import type { ToolContext } from '../tool.types.js';

/**
 * How `transfer_to_human` puts the caller through to a person: SIP REFER (`SipReferTransfer`) or, for calls another
 * library knows how to transfer better (a Twilio conference's warm transfer, in `#conference`), a
 * `HumanTransferRoute`; `PerCallHumanTransfer` chooses per call, so the model always sees one tool.
 */
export abstract class HumanTransfer {
  /** Whether this deployment can transfer (the tool is offered only then). */
  abstract get configured(): boolean;
  /** The longest one transfer may take, from the tool call to its outcome. */
  abstract get maxDurationMs(): number;
  /**
   * Transfers the call. Resolves with nothing once the call has left us (transferred), or with what the model is
   * told while the transfer goes on without waiting for it (a warm transfer ringing the human); throws a
   * `ToolError` the model can act on when it did not go through (the caller is still on the line with the agent).
   */
  abstract transfer(context: ToolContext, reason: string | undefined): Promise<object | void>;
}

/** A transfer a route has prepared for one call: what it is (for logs and tests), and how to carry it out. */
export interface TransferPlan {
  /** The route's name (`conference`). */
  readonly kind: string;
  /** How the logs name it (`Twilio conference`). */
  readonly label: string;
  /** Carries the transfer out (the same contract as `HumanTransfer.transfer`). */
  run(reason: string | undefined): Promise<object | void>;
}

/**
 * Another way to transfer some calls, tried before SIP REFER. Any provider of the application that extends this
 * class is found (the way tools are): the library that owns the topology keeps its transfer to itself.
 */
export abstract class HumanTransferRoute {
  /** Whether this deployment can transfer this way at all. */
  abstract get configured(): boolean;
  /** The longest one transfer this way may take. */
  abstract get maxDurationMs(): number;
  /**
   * The transfer this route would make for this call, or undefined when the call is not one it can transfer (it
   * then goes by SIP REFER). Throws a `ToolError` when it cannot tell (a REFER might not reach the human).
   */
  abstract plan(context: ToolContext): Promise<TransferPlan | undefined>;
}
