import type { ToolContext } from '../tool.types.js';

/**
 * How `transfer_to_human` puts the caller through to a person: SIP REFER (`SipReferTransfer`) or, for calls that
 * came through a Twilio conference, a warm transfer (`ConferenceTransfer`); `PerCallHumanTransfer` chooses per call,
 * so the model always sees one tool.
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
