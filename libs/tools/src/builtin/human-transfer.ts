import type { ToolContext } from '../tool.types.js';

/**
 * How `transfer_to_human` puts the caller through to a person. Today: SIP REFER (`SipReferTransfer`); the
 * warm-transfer work adds a Twilio conference strategy behind the same tool, so the model always sees one tool.
 */
export abstract class HumanTransfer {
  /** Whether this deployment can transfer (the tool is offered only then). */
  abstract get configured(): boolean;
  /** The longest one transfer may take, from the tool call to its outcome. */
  abstract get maxDurationMs(): number;
  /**
   * Transfers the call. Resolves once the call has left us (transferred); throws a `ToolError` the model can act on
   * when it did not go through (the caller is still on the line with the agent).
   */
  abstract transfer(context: ToolContext, reason: string | undefined): Promise<void>;
}
