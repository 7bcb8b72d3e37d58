import type { CallContext, ToolTrigger, TransferTarget } from '#events';

/**
 * What a tool may do to the call it runs in. Narrow on purpose: a tool never sees the sideband socket, so it cannot
 * send the Realtime API anything the bridge does not expect.
 */
export interface CallControl {
  /** True once the call's sideband has closed (the caller hung up, a transfer completed, /hangup …). */
  readonly ended: boolean;

  /**
   * Has the agent say this to the caller, as its next response (sent as soon as the agent is not already
   * answering). Does nothing once the call has ended.
   */
  say(text: string): void;

  /**
   * Tells the model something happened that it should act on (a system message), then asks it to respond — e.g. a
   * transfer that went on after the tool returned did not go through. Does nothing once the call has ended.
   */
  inform(text: string): void;

  /**
   * Hangs up (`POST /realtime/calls/{id}/hangup`). With `afterAgentSpeech`, first lets the agent's next response
   * (typically its goodbye) finish playing — `response.done` and `output_audio_buffer.stopped` — waiting at most
   * END_CALL_MAX_WAIT_MS. Resolves once the hang-up was requested (or the call had already ended); calling it again
   * returns the same promise.
   */
  hangUp(options?: { afterAgentSpeech?: boolean }): Promise<void>;

  /**
   * Transfers the call by SIP REFER (`POST /realtime/calls/{id}/refer`) to a `tel:` or `sip:` URI. Resolves when
   * OpenAI accepted the request, which says nothing about the transfer itself: the call ends (its sideband closes)
   * when the transfer completes. Throws when the request is refused or fails.
   */
  refer(targetUri: string): Promise<void>;

  /** Resolves true once the agent is silent (no response in progress, nothing playing), false after `maxWaitMs`. */
  agentSilent(maxWaitMs: number): Promise<boolean>;

  /** Resolves true when the call ends within `timeoutMs`, false otherwise. */
  waitForEnd(timeoutMs: number): Promise<boolean>;
}

/** Everything a tool learns about the call it runs in. */
export interface ToolContext {
  /** The Realtime call id (`rtc_…`). */
  readonly callId: string;
  /** This run's function call id (`call_…`; `dtmf_…` when a DTMF key-map action started it). */
  readonly toolCallId: string;
  readonly trigger: ToolTrigger;
  /**
   * What the SIP INVITE said: caller, dialled and forwarded-from numbers (E.164), SIP Call-ID, Twilio CallSid, every
   * header. All of it is caller-controlled: use it to look things up, never to authorize.
   */
  readonly sip: CallContext;
  /** The name of the agent profile that answered the call. */
  readonly profile: string;
  /** The profile's own `transfer_to_human` target, when it has one (else the environment's applies). */
  readonly transfer?: TransferTarget;
  /** Aborted when the run times out: pass it to fetch and other cancellable work. */
  readonly signal: AbortSignal;
  readonly call: CallControl;
}

/**
 * A tool the agent can call. `Args` is the DTO class given as `parameters` to `@RealtimeTool()`: the arguments are
 * validated against it before `execute` runs, and its JSON Schema is what the model is shown.
 *
 * `execute` returns what the model is told: a string as is, anything else as JSON (`undefined`: `{"status":"ok"}`).
 * Throw a `ToolError` to tell the model something went wrong in words it can use; any other error becomes a
 * generic failure (its message is logged, never shown to the model).
 */
export interface RealtimeToolHandler<Args extends object = object> {
  execute: (args: Args, context: ToolContext) => unknown;
  /** Built-in tools switch themselves off when their configuration is absent; omitted means always enabled. */
  isEnabled?: () => boolean;
  /** Overrides the decorator's `timeoutMs` and TOOL_TIMEOUT_MS (for a timeout that depends on configuration). */
  readonly timeoutMs?: number;
}

/** A failure the model should hear about: its code and message are given to the model as the tool's output. */
export class ToolError extends Error {
  constructor(
    message: string,
    readonly code = 'tool_error',
  ) {
    super(message);
    this.name = 'ToolError';
  }
}
