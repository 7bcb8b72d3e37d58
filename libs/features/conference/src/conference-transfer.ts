import { randomBytes } from 'node:crypto';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { ConferenceLinks, type ConferenceLink } from './conference-links.js';
import type { ConfigType } from '#config';
import { EventBus, OnBridgeEvent, type CallEndedEvent, type CallTransferEvent, type TransferStatus } from '#events';
import { Clock, errorMessage, systemClock, type Timer } from '#resilience';
import { CallLink, HumanTransferRoute, ToolError, transferConfig, type CallControl, type ToolContext, type TransferPlan } from '#tools';
import { TwilioErrorCode, TwilioRequestError, TwilioVoice, twilioConfig } from '#twilio';

/** How often a ringing transfer re-reads its link (the conference events may reach another replica). */
const POLL_MS = 1000;
/** After the ring timeout, how long Twilio has to report the human's fate before the attempt counts as failed. */
const OUTCOME_GRACE_MS = 15_000;
/** Storage reads and writes around the Twilio request, in the tool's time budget. */
const STORAGE_BUDGET_MS = 5000;

const CONNECTING = {
  status: 'connecting',
  say: "I'm connecting you now, please stay on the line.",
  instructions:
    'Say exactly that to the caller. A person is being called into this call; when they answer, you leave the ' +
    'call. Until then, stay with the caller. If you are told the transfer did not go through, keep helping them.',
};
const ALREADY_CONNECTING = {
  status: 'connecting',
  instructions: 'A person is already being called into this call: ask the caller to stay on the line.',
};
const UNAVAILABLE = 'Transfers are not available.';
const FAILED_TO_START =
  'The transfer could not be started. Apologise to the caller, and offer to help another way or to take a message.';
const BUSY_NOW =
  'The transfer could not be started because the phone system is busy. Apologise to the caller, and offer to try ' +
  'again in a moment, to help another way or to take a message.';
const OUTCOMES: Record<Exclude<TransferStatus, 'dialing' | 'joined'>, string> = {
  no_answer:
    'The transfer did not go through: nobody answered. The caller is still on the line with you: apologise, and ' +
    'offer to help another way or to take a message.',
  busy:
    'The transfer did not go through: the line was busy. The caller is still on the line with you: apologise, and ' +
    'offer to help another way or to take a message.',
  failed:
    'The transfer did not go through. The caller is still on the line with you: apologise, and offer to help ' +
    'another way or to take a message.',
};

interface PendingTransfer {
  callId: string;
  conferenceName: string;
  attempt: string;
  control: CallControl;
  poll?: Timer;
  deadline: number;
  checking: boolean;
}

/**
 * Warm transfer for calls that came through the Twilio conference topology: the human (the profile's number, else
 * HUMAN_AGENT_NUMBER) is dialled into the caller's conference with the caller's CallToken and number as caller ID,
 * and the tool answers at once so the agent can say it is connecting them. What follows arrives as conference
 * events (`call.transfer` on the bus, written to the link first): the human joins — the agent's leg is ended and the
 * call ends `transferred` — or does not answer, is busy, or fails — the model is told, and keeps helping the caller.
 * A ringing transfer also re-reads its link, so the outcome is noticed when the events reach another replica, and
 * gives up when Twilio reports nothing well after the ring timeout.
 */
@Injectable()
export class ConferenceTransfer extends HumanTransferRoute implements OnModuleDestroy {
  private readonly logger = new Logger(ConferenceTransfer.name);
  private readonly pending = new Map<string, PendingTransfer>();

  constructor(
    @Inject(transferConfig.KEY) private readonly transferSettings: ConfigType<typeof transferConfig>,
    @Inject(twilioConfig.KEY) private readonly twilio: ConfigType<typeof twilioConfig>,
    private readonly voice: TwilioVoice,
    private readonly links: ConferenceLinks,
    private readonly link: CallLink,
    private readonly bus: EventBus,
    private readonly clock: Clock = systemClock,
  ) {
    super();
  }

  /** The seed's rule: Twilio's account and HUMAN_AGENT_NUMBER. */
  get configured(): boolean {
    return this.voice.enabled && this.transferSettings.humanAgentNumber !== undefined;
  }

  get maxDurationMs(): number {
    return this.voice.maxRequestMs + STORAGE_BUDGET_MS;
  }

  /** Whether this call can be transferred this way: Twilio is configured and the call has a human number to dial. */
  canTransfer(context: ToolContext): boolean {
    return this.voice.enabled && this.targetOf(context) !== undefined;
  }

  /**
   * The conference the call came from (its `X-conferenceName`), tied to this call; undefined when the call did not
   * come through a conference this service set up. Throws when storage cannot answer.
   */
  async linkOf(context: ToolContext): Promise<ConferenceLink | undefined> {
    const name = context.sip.conferenceName;
    if (!this.voice.enabled || !name) return undefined;
    return this.links.linkOpenAICall(name, context.callId);
  }

  /**
   * The warm transfer for a call that came through a conference this service set up, tied to this call (and Twilio
   * is configured with a human to dial); undefined otherwise (the call goes by SIP REFER). Throws a `ToolError`
   * when the conference cannot be read: the call may well be in one, where a REFER would not reach the human.
   */
  async plan(context: ToolContext): Promise<(TransferPlan & { link: ConferenceLink }) | undefined> {
    if (!this.canTransfer(context) || !context.sip.conferenceName) return undefined;
    let link: ConferenceLink | undefined;
    try {
      link = await this.linkOf(context);
    } catch (error) {
      this.logger.warn(`[${context.callId}] reading the call's conference failed: ${errorMessage(error)}`);
      throw new ToolError(FAILED_TO_START, 'transfer_failed');
    }
    if (!link) return undefined;
    const found = link;
    return { kind: 'conference', label: 'Twilio conference', link: found, run: (reason) => this.transferIn(found, context, reason) };
  }

  /** Transfers the call into its conference, or refuses (`transfer_unavailable`) when this route has no plan for it. */
  async transfer(context: ToolContext, reason: string | undefined): Promise<object | void> {
    const plan = await this.plan(context);
    if (!plan) throw new ToolError(UNAVAILABLE, 'transfer_unavailable');
    return plan.run(reason);
  }

  /** Dials the human into `link`'s conference; resolves once Twilio has accepted the new participant. */
  async transferIn(link: ConferenceLink, context: ToolContext, reason: string | undefined): Promise<object> {
    const { callId, call } = context;
    const target = this.targetOf(context);
    const callerId = link.callToken ? (link.callerNumber ?? link.dialledNumber) : link.dialledNumber;
    const account = this.twilio.account;
    if (!target || !callerId || !account) throw new ToolError(UNAVAILABLE, 'transfer_unavailable');
    if (call.ended) throw new ToolError('The caller hung up before the transfer.', 'call_ended');
    if (this.pending.has(callId)) return ALREADY_CONNECTING;

    const name = link.conferenceName;
    const attempt = `att_${randomBytes(8).toString('hex')}`;
    let began: boolean;
    try {
      began = await this.links.beginHumanAttempt(name, attempt);
    } catch (error) {
      this.logger.warn(`[${callId}] recording the transfer failed: ${errorMessage(error)}`);
      throw new ToolError(FAILED_TO_START, 'transfer_failed');
    }
    if (!began) return ALREADY_CONNECTING;

    const humanLabel = this.twilio.humanLabel;
    this.publish({
      callId,
      attempt,
      status: 'dialing',
      ...(reason ? { reason } : {}),
      ...(link.callerNumber ? { callerNumber: link.callerNumber } : {}),
      humanLabel,
      at: new Date(),
    });
    const query = new URLSearchParams({ conference: name, attempt });
    try {
      const added = await this.voice.addParticipant(link.conferenceSid ?? name, {
        from: callerId,
        to: target,
        label: humanLabel,
        ...(link.callToken ? { callToken: link.callToken } : {}),
        earlyMedia: false,
        timeout: this.twilio.ringTimeoutSeconds,
        // Once the human has taken over, their hanging up ends the call for the caller too.
        endConferenceOnExit: true,
        statusCallback: `${account.publicBaseUrl}/twilio/conference-events?${query}`,
        statusCallbackEvent: ['completed'],
        statusCallbackMethod: 'POST',
      });
      await this.links.updateHumanAttempt(name, attempt, { callSid: added.callSid }).catch((error: unknown) => {
        this.logger.warn(`[${callId}] recording the human's call failed (its events still match by attempt): ${errorMessage(error)}`);
      });
    } catch (error) {
      const failure = TwilioRequestError.from(error);
      this.logger.warn(`[${callId}] adding the human to conference ${name} failed: ${failure.message}`);
      await this.links.updateHumanAttempt(name, attempt, { status: 'failed' }, ['dialing']).catch(() => undefined);
      this.publish({ callId, attempt, status: 'failed', humanLabel, detail: describeFailure(failure), at: new Date() });
      throw new ToolError(failure.code === TwilioErrorCode.RateLimited ? BUSY_NOW : FAILED_TO_START, 'transfer_failed');
    }
    this.logger.log(`[${callId}] ringing the human (${attempt}) into conference ${name}`);
    this.watch({ callId, conferenceName: name, attempt, control: call });
    return CONNECTING;
  }

  /** A final status reported on this replica (the conference events arrived here). */
  @OnBridgeEvent('call.transfer')
  onTransfer({ callId, attempt, status }: CallTransferEvent): void {
    if (status === 'dialing') return;
    const pending = this.pending.get(callId);
    if (pending?.attempt === attempt) this.settle(pending, status);
  }

  @OnBridgeEvent('call.ended')
  onEnded({ callId }: CallEndedEvent): void {
    const pending = this.pending.get(callId);
    if (pending) this.release(pending);
  }

  onModuleDestroy(): void {
    for (const pending of [...this.pending.values()]) this.release(pending);
  }

  /** Transfers still ringing (tests and diagnostics). */
  get ringingCount(): number {
    return this.pending.size;
  }

  /**
   * The number to dial: the profile's, when it has its own transfer target (one with only a SIP URI has none here:
   * its callers go to that URI by REFER, never to the deployment's number); else HUMAN_AGENT_NUMBER.
   */
  private targetOf(context: ToolContext): string | undefined {
    return context.transfer ? context.transfer.humanAgentNumber : this.transferSettings.humanAgentNumber;
  }

  private watch(started: Omit<PendingTransfer, 'poll' | 'deadline' | 'checking'>): void {
    const pending: PendingTransfer = {
      ...started,
      deadline: this.clock.now() + this.twilio.ringTimeoutSeconds * 1000 + OUTCOME_GRACE_MS,
      checking: false,
    };
    this.pending.set(pending.callId, pending);
    this.poll(pending);
  }

  /** Every POLL_MS while the transfer rings, whether or not the previous check has finished (it skips then). */
  private poll(pending: PendingTransfer): void {
    pending.poll = this.clock.setTimeout(() => {
      if (this.pending.get(pending.callId) !== pending) return;
      this.poll(pending);
      void this.check(pending);
    }, POLL_MS);
  }

  private async check(pending: PendingTransfer): Promise<void> {
    if (pending.checking || this.pending.get(pending.callId) !== pending) return;
    pending.checking = true;
    const { callId, conferenceName, attempt } = pending;
    try {
      const link = await this.links.get(conferenceName);
      const status = link?.humanAttempt === attempt ? link.humanStatus : 'failed';
      if (status && status !== 'dialing') {
        this.settle(pending, status);
      } else if (this.clock.now() > pending.deadline) {
        this.logger.warn(`[${callId}] Twilio reported nothing about the human (${attempt}): the transfer counts as failed`);
        if (await this.links.updateHumanAttempt(conferenceName, attempt, { status: 'failed' }, ['dialing'])) {
          this.publish({ callId, attempt, status: 'failed', humanLabel: this.twilio.humanLabel, detail: 'no answer reported in time', at: new Date() });
        }
        this.settle(pending, 'failed');
      }
    } catch (error) {
      this.logger.warn(`[${callId}] checking the transfer failed: ${errorMessage(error)}`);
      if (this.clock.now() > pending.deadline) this.settle(pending, 'failed');
    } finally {
      pending.checking = false;
    }
  }

  private settle(pending: PendingTransfer, status: Exclude<TransferStatus, 'dialing'>): void {
    if (this.pending.get(pending.callId) !== pending) return;
    this.release(pending);
    const { callId, control } = pending;
    if (status === 'joined') {
      // Usually already done where the join was received; needed when that was another replica.
      this.link.expectEnd(callId, 'transferred');
      this.logger.log(`[${callId}] the human joined: the agent's leg ends, the call is transferred`);
      return;
    }
    if (control.ended) return;
    this.logger.warn(`[${callId}] the transfer did not go through (${status}); the agent carries on`);
    control.inform(OUTCOMES[status]);
  }

  private release(pending: PendingTransfer): void {
    this.clock.clearTimeout(pending.poll);
    if (this.pending.get(pending.callId) === pending) this.pending.delete(pending.callId);
  }

  private publish(event: CallTransferEvent): void {
    try {
      this.bus.emit('call.transfer', event);
    } catch (error) {
      this.logger.error(`a transfer event listener failed: ${errorMessage(error)}`);
    }
  }
}

function describeFailure(failure: TwilioRequestError): string {
  switch (failure.code) {
    case TwilioErrorCode.RateLimited:
      return 'Twilio is rate limiting this account';
    case TwilioErrorCode.Timeout:
      return 'Twilio did not answer in time';
    case TwilioErrorCode.Unreachable:
      return 'Twilio could not be reached';
    default:
      return failure.status !== undefined ? `Twilio refused the call (HTTP ${failure.status})` : 'Twilio refused the call';
  }
}
