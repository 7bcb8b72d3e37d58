import { Inject, Injectable, Logger } from '@nestjs/common';
import { AgentLegs } from './agent-leg.js';
import { ConferenceLinks, type ConferenceLink } from './conference-links.js';
import { AGENT_LABEL } from './conference-twiml.js';
import { CallSessions } from '#calls';
import type { ConfigType } from '#config';
import { EventBus, type CallTransferEvent, type TransferStatus } from '#events';
import { errorMessage } from '#resilience';
import { CALL_SID, CONFERENCE_SID, TwilioVoice, param, twilioConfig, type TwilioParams } from '#twilio';

/** A participant call's final statuses, as the human's transfer ends when they come before a join. */
const HUMAN_OUTCOME: Record<string, Exclude<TransferStatus, 'dialing' | 'joined'>> = {
  'no-answer': 'no_answer',
  busy: 'busy',
  failed: 'failed',
  canceled: 'failed',
  completed: 'failed', // it ended without ever joining
};
const FINAL_CALL_STATUSES = new Set(['completed', 'failed', 'busy', 'no-answer', 'canceled']);

/**
 * `POST /twilio/conference-events` (a verified Twilio webhook, always answered): the conference's events (from the
 * caller's TwiML) and the call-progress events of the legs we added (their StatusCallback names the conference and
 * the leg or transfer attempt). Every transition is written to the conference link first, as a conditional update,
 * so a repeated or late event acts once, on whichever replica it lands.
 *
 * - The human joins: the call is expected to end `transferred`, `call.transfer` `joined` is published, and the
 *   agent's leg is ended (by Twilio; by OpenAI's /hangup if that fails) — its sideband closes.
 * - The human does not answer, is busy, or fails: `call.transfer` says so (the tool tells the model, Discord is told).
 * - The agent leaves with no human joined or coming (end_call, a failure): the caller's call is ended, so nobody is
 *   left listening to an empty conference.
 * - The agent joins a conference whose voice webhook gave up on it (Twilio placed the leg despite a timeout or a
 *   5xx; the caller heard an apology): its leg is ended, so it does not talk to an empty conference.
 */
@Injectable()
export class ConferenceEventsHandler {
  private readonly logger = new Logger(ConferenceEventsHandler.name);

  constructor(
    private readonly links: ConferenceLinks,
    private readonly voice: TwilioVoice,
    private readonly sessions: CallSessions,
    private readonly agentLegs: AgentLegs,
    private readonly bus: EventBus,
    @Inject(twilioConfig.KEY) private readonly config: ConfigType<typeof twilioConfig>,
  ) {}

  /** Never throws: Twilio gets its answer whatever happens here (failures are logged). */
  async handle(params: TwilioParams, query: URLSearchParams): Promise<void> {
    try {
      const event = param(params, 'StatusCallbackEvent');
      if (event) return await this.onConferenceEvent(event, params);
      const conference = query.get('conference');
      const callStatus = param(params, 'CallStatus');
      if (!conference || !callStatus) return;
      if (query.get('leg') === 'agent') return await this.onAgentCallStatus(conference, callStatus);
      const attempt = query.get('attempt');
      if (attempt) return await this.onHumanCallStatus(conference, attempt, callStatus, param(params, 'CallSid'));
    } catch (error) {
      this.logger.error(`handling a conference event failed: ${errorMessage(error)}`);
    }
  }

  private async onConferenceEvent(event: string, params: TwilioParams): Promise<void> {
    const name = param(params, 'FriendlyName');
    if (!name) return;
    const link = await this.links.get(name);
    if (!link) {
      this.logger.debug(`${event} for conference ${name.slice(0, 64)}, which is not ours: ignored`);
      return;
    }
    const conferenceSid = param(params, 'ConferenceSid');
    if (conferenceSid && CONFERENCE_SID.test(conferenceSid) && link.conferenceSid !== conferenceSid) {
      await this.links.update(name, { conferenceSid });
    }
    const label = param(params, 'ParticipantLabel');
    if (event === 'participant-join' && label === this.config.humanLabel) return this.onHumanJoined(link, param(params, 'CallSid'));
    if (event === 'participant-join' && label === AGENT_LABEL) return this.onAgentJoined(link, param(params, 'CallSid'));
    if (event === 'participant-leave' && label === AGENT_LABEL) return this.onAgentGone(link);
  }

  private async onAgentJoined(link: ConferenceLink, callSid: string | undefined): Promise<void> {
    const name = link.conferenceName;
    const legSid = callSid && CALL_SID.test(callSid) ? callSid : undefined;
    if (link.agentStatus === 'failed') {
      this.logger.warn(`[${link.openaiCallId ?? name}] the agent joined conference ${name} after it was given up (the caller was turned away): ending its leg`);
      await this.agentLegs.end(link.openaiCallId ?? name, { callSid: legSid ?? link.agentCallSid, openaiCallId: link.openaiCallId });
      return;
    }
    // Its SID, when the voice webhook never learned it (the request timed out): the leg can then still be ended.
    if ((await this.links.moveAgent(name, ['dialing'], 'joined')) && legSid && !link.agentCallSid) {
      await this.links.update(name, { agentCallSid: legSid });
    }
  }

  private async onHumanJoined(link: ConferenceLink, callSid: string | undefined): Promise<void> {
    const { conferenceName: name, humanAttempt: attempt, openaiCallId: callId } = link;
    if (!attempt || !callId) return;
    // A leg of an earlier attempt (its SID is known and differs) is not this transfer.
    if (callSid && link.humanCallSid && callSid !== link.humanCallSid) return;
    const changes = callSid && CALL_SID.test(callSid) ? { status: 'joined' as const, callSid } : { status: 'joined' as const };
    if (!(await this.links.updateHumanAttempt(name, attempt, changes, ['dialing']))) return;

    // Before the agent's leg is ended: its sideband closing is then reported as the transfer it is.
    this.sessions.expectEnd(callId, 'transferred');
    this.publish({ callId, attempt, status: 'joined', humanLabel: this.config.humanLabel, at: new Date() });
    this.logger.log(`[${callId}] the human joined conference ${name}: ending the agent's leg`);
    if (!(await this.agentLegs.end(callId, { callSid: link.agentCallSid, openaiCallId: callId }))) this.sessions.expectEnd(callId, undefined);
  }

  private async onHumanCallStatus(name: string, attempt: string, callStatus: string, callSid: string | undefined): Promise<void> {
    const status = HUMAN_OUTCOME[callStatus];
    if (!status) return;
    const link = await this.links.get(name);
    if (!link) return;
    const changes = callSid && CALL_SID.test(callSid) ? { status, callSid } : { status };
    // Only while it is still ringing: a `completed` after the human joined (they hung up later) changes nothing.
    if (!(await this.links.updateHumanAttempt(name, attempt, changes, ['dialing']))) return;
    const callId = link.openaiCallId;
    this.logger.warn(`[${callId ?? name}] the human did not join (${status.replace('_', ' ')})`);
    if (callId) this.publish({ callId, attempt, status, humanLabel: this.config.humanLabel, at: new Date() });
    // The agent already left (it ended the call while the human rang): nobody is left for the caller.
    if (link.agentStatus === 'left' || link.agentStatus === 'failed') await this.endCallerLeg(link, 'nobody is left in the conference');
  }

  private async onAgentCallStatus(name: string, callStatus: string): Promise<void> {
    if (!FINAL_CALL_STATUSES.has(callStatus)) return;
    const link = await this.links.get(name);
    if (link) await this.onAgentGone(link);
  }

  /** The agent's leg ended (it left, or never connected). Acts once, whichever report comes first. */
  private async onAgentGone(link: ConferenceLink): Promise<void> {
    if (!(await this.links.moveAgent(link.conferenceName, ['dialing', 'joined'], 'left'))) return;
    const current = (await this.links.get(link.conferenceName)) ?? link;
    if (current.humanStatus === 'joined' || current.humanStatus === 'dialing') return;
    await this.endCallerLeg(current, 'the agent left and no human is coming');
  }

  private async endCallerLeg(link: ConferenceLink, why: string): Promise<void> {
    const tag = link.openaiCallId ?? link.conferenceName;
    try {
      await this.voice.endCall(link.callerCallSid);
      this.logger.log(`[${tag}] ending the caller's call: ${why}`);
    } catch (error) {
      this.logger.warn(`[${tag}] ending the caller's call failed: ${errorMessage(error, { maxLength: 200 })}`);
    }
  }

  private publish(event: CallTransferEvent): void {
    try {
      this.bus.emit('call.transfer', event);
    } catch (error) {
      this.logger.error(`a transfer event listener failed: ${errorMessage(error)}`);
    }
  }
}
