import type { Logger } from '@nestjs/common';
import { CallConversation } from './call-conversation.js';
import type { CallLink } from './call-link.js';
import { DtmfCollector } from './dtmf/dtmf-collector.js';
import type { CallControl } from './tool.types.js';
import { CallControlError } from '#calls';
import type { CallContext, RealtimeClientEvent, TransferTarget } from '#events';
import { withTimeoutOr, type Clock } from '#resilience';

const TRANSFER_URI = /^(tel:\+?[0-9][0-9\-.()]{2,31}|sips?:[^\s<>"]{3,256})$/;

export interface LiveCallOptions {
  link: CallLink;
  /** The profile that answered the call. */
  profile: string;
  /** The profile's own transfer target, if any. */
  transfer?: TransferTarget;
  /** The tools offered to this call by its profile; absent: every enabled tool. */
  tools?: readonly string[];
  /** What the agent says first, once the sideband can send (the profile's welcome message). */
  greeting?: string;
  logger: Logger;
  /** The longest a hang-up after speech waits for the speech to finish playing. */
  endCallMaxWaitMs: number;
  dtmf: { interDigitMs: number; keyMap: ReadonlyMap<string, string> };
  onDigits: (call: LiveCall, keys: string[]) => void;
  onKeyAction: (call: LiveCall, key: string, tool: string) => void;
  /** The clock of the call's waits: the conversation's, the key presses' pause, the wait for its end. */
  clock?: Clock;
}

/** One accepted call, as the tools see it: its SIP data, its conversation state, its key presses. */
export class LiveCall {
  readonly conversation: CallConversation;
  readonly dtmf: DtmfCollector;
  readonly control: CallControl;
  /** Tool call ids already acted on (each is reported up to three times). */
  readonly handledToolCalls = new Set<string>();
  /** Function call item id → name, for argument events that do not carry the name. */
  readonly functionNames = new Map<string, string>();
  readonly ended: Promise<void>;
  private resolveEnded!: () => void;
  private isEnded = false;
  private dtmfSequence = 0;
  /** The only tools this call may run (those offered in its accept body); undefined: every enabled tool. */
  readonly allowedTools?: ReadonlySet<string>;

  constructor(
    readonly context: CallContext,
    private readonly options: LiveCallOptions,
  ) {
    const callId = context.callId;
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
    this.conversation = new CallConversation({ send: (event) => options.link.send(callId, event), clock: options.clock });
    this.dtmf = new DtmfCollector({
      ...options.dtmf,
      clock: options.clock,
      onDigits: (keys) => options.onDigits(this, keys),
      onAction: (key, tool) => options.onKeyAction(this, key, tool),
    });
    this.control = new LiveCallControl(this, options);
    if (options.tools) this.allowedTools = new Set(options.tools);
  }

  get callId(): string {
    return this.context.callId;
  }

  /** The sideband can send: the agent says the greeting first, requested through the conversation like any response. */
  greet(): void {
    const { greeting } = this.options;
    if (greeting) this.conversation.requestResponse({ instructions: `Greet the caller by saying: ${greeting}` });
  }

  get profile(): string {
    return this.options.profile;
  }

  get transfer(): TransferTarget | undefined {
    return this.options.transfer;
  }

  get hasEnded(): boolean {
    return this.isEnded;
  }

  /** A tool call id for a run no function call asked for (a key-map action). */
  nextDtmfToolCallId(): string {
    return `dtmf_${++this.dtmfSequence}`;
  }

  /** Sends a client event on the call; false once the call has ended. */
  send(event: RealtimeClientEvent): boolean {
    return !this.isEnded && this.options.link.send(this.callId, event);
  }

  /** The call's sideband closed: everything waiting on it is released. */
  end(): void {
    if (this.isEnded) return;
    this.isEnded = true;
    this.dtmf.dispose();
    this.conversation.end();
    this.resolveEnded();
  }
}

class LiveCallControl implements CallControl {
  private hangingUp?: Promise<void>;

  constructor(
    private readonly call: LiveCall,
    private readonly options: LiveCallOptions,
  ) {}

  get ended(): boolean {
    return this.call.hasEnded;
  }

  say(text: string): void {
    const words = String(text).trim().slice(0, 2000);
    if (words === '') return;
    this.call.conversation.requestResponse({
      instructions: `Say exactly this to the caller, and nothing else: ${JSON.stringify(words)}`,
    });
  }

  inform(text: string): void {
    const words = String(text).trim().slice(0, 2000);
    if (words === '') return;
    const sent = this.call.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'system', content: [{ type: 'input_text', text: words }] },
    });
    if (sent) this.call.conversation.requestResponse();
  }

  hangUp(options: { afterAgentSpeech?: boolean } = {}): Promise<void> {
    this.hangingUp ??= this.hangUpOnce(options.afterAgentSpeech ?? false);
    return this.hangingUp;
  }

  async refer(targetUri: string): Promise<void> {
    if (typeof targetUri !== 'string' || !TRANSFER_URI.test(targetUri)) {
      throw new Error('refer needs a tel: or sip: URI');
    }
    if (this.call.hasEnded) throw new Error('the call has ended');
    await this.options.link.refer(this.call.callId, targetUri);
  }

  agentSilent(maxWaitMs: number): Promise<boolean> {
    return this.call.conversation.whenSilent(maxWaitMs);
  }

  async waitForEnd(timeoutMs: number): Promise<boolean> {
    if (this.call.hasEnded) return true;
    return withTimeoutOr(this.call.ended.then(() => true as const), timeoutMs, false, { clock: this.options.clock });
  }

  private async hangUpOnce(afterAgentSpeech: boolean): Promise<void> {
    const { callId } = this.call;
    if (afterAgentSpeech) {
      const outcome = await this.call.conversation.afterNextResponsePlayed(this.options.endCallMaxWaitMs);
      if (outcome === 'timeout') {
        this.options.logger.warn(`[${callId}] the goodbye did not finish playing within ${this.options.endCallMaxWaitMs} ms, hanging up`);
      }
    }
    if (this.call.hasEnded) return;
    this.options.logger.log(`[${callId}] hanging up`);
    try {
      await this.options.link.hangup(callId);
    } catch (error) {
      // 404: the caller hung up first, which is what we wanted.
      if (error instanceof CallControlError && error.outcome === 'caller_gone') return;
      throw error;
    }
  }
}
