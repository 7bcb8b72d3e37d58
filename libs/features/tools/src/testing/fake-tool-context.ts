import type { CallControl, ToolContext } from '../tool.types.js';
import type { CallContext, TransferTarget } from '#events';

/** A CallControl that records what a tool asked for, for unit tests of tools. */
export class RecordingCallControl implements CallControl {
  ended = false;
  readonly said: string[] = [];
  readonly informed: string[] = [];
  readonly hangUps: Array<{ afterAgentSpeech?: boolean }> = [];
  readonly refers: string[] = [];
  /** What `waitForEnd` answers (true: the call ended, as after a completed transfer). */
  endsWithinWait = false;

  say(text: string): void {
    this.said.push(text);
  }

  inform(text: string): void {
    this.informed.push(text);
  }

  async hangUp(options: { afterAgentSpeech?: boolean } = {}): Promise<void> {
    this.hangUps.push(options);
  }

  async refer(targetUri: string): Promise<void> {
    this.refers.push(targetUri);
  }

  async agentSilent(): Promise<boolean> {
    return true;
  }

  async waitForEnd(): Promise<boolean> {
    return this.endsWithinWait;
  }
}

/**
 * A ToolContext for unit tests of a tool's `execute`: a call with plausible SIP data (override any of it) and a
 * call control that records what the tool asked for.
 */
export function fakeToolContext(
  overrides: {
    callId?: string;
    toolCallId?: string;
    sip?: Partial<CallContext>;
    signal?: AbortSignal;
    trigger?: ToolContext['trigger'];
    profile?: string;
    transfer?: TransferTarget;
  } = {},
): ToolContext & { call: RecordingCallControl } {
  const callId = overrides.callId ?? 'rtc_test';
  return {
    callId,
    toolCallId: overrides.toolCallId ?? 'call_test',
    trigger: overrides.trigger ?? 'model',
    sip: { callId, callerNumber: '+14155550123', dialledNumber: '+18005551212', sipHeaders: [], ...overrides.sip },
    profile: overrides.profile ?? 'default',
    ...(overrides.transfer ? { transfer: overrides.transfer } : {}),
    signal: overrides.signal ?? new AbortController().signal,
    call: new RecordingCallControl(),
  };
}
