import { Injectable } from '@nestjs/common';
import { escapeMarkdown, SAFE_CONTENT_LIMIT, splitText, codePointLength } from './discord/discord-text.js';
import type { NotificationPayload } from './notification.js';
import { Notifications } from './notifications.service.js';
import {
  OnBridgeEvent,
  type CallAcceptedEvent,
  type CallAdoptedEvent,
  type CallDetachedEvent,
  type CallRejectedEvent,
  type CallTranscriptCompletedEvent,
  type TranscriptLine,
} from '#events';
import { formatLine } from '#transcripts';

/** Room left in a message for the call header that the queue may put in front of a piece. */
const PIECE_LIMIT = SAFE_CONTENT_LIMIT - 40;

/** The call's short tag in Discord: enough to tell concurrent calls apart, without the whole id. */
export const callTag = (callId: string) => `…${callId.slice(-6)}`;

/** SIP statuses a call may be rejected with, in words. */
const SIP_STATUS: Record<number, string> = { 480: '480 Temporarily Unavailable', 486: '486 Busy Here', 603: '603 Decline' };
const WHY_REJECTED: Record<Exclude<CallRejectedEvent['reason'], 'caller_gone'>, string> = {
  at_capacity: 'this replica is at MAX_CONCURRENT_CALLS',
  unknown_number: 'no agent profile answers this number',
  agent_leg_failed: 'the agent could not be added to the Twilio conference in time; the caller heard an apology',
};

/**
 * What the team sees of each call: an announcement when it is answered, every transcript line as it is released,
 * and a summary (with the whole transcript, attached as a file when it is too long for a message) when it ends.
 */
@Injectable()
export class CallNotifications {
  /**
   * The destinations of each live call whose profile chose its own, from its announcement to its summary: a
   * profile reloaded meanwhile does not move a call that is already under way.
   */
  private readonly destinations = new Map<string, readonly string[]>();

  constructor(private readonly notifications: Notifications) {}

  /** Where a live call's notifications go when its profile chose (undefined: the deployment's destinations). */
  destinationsOf(callId: string): readonly string[] | undefined {
    return this.destinations.get(callId);
  }

  @OnBridgeEvent('call.accepted')
  announce(event: CallAcceptedEvent): void {
    if (event.notify) this.destinations.set(event.callId, event.notify);
    this.announcement(event);
  }

  /**
   * A call taken over from another replica. Its destinations are known again here, and what the previous owner
   * left undelivered is taken over and sent first. The announcement and the lines stored so far are notified again
   * under their keys: the outbox stores only those the previous owner had not stored yet (it may have died between
   * storing a line and storing its notification), so Discord still gets every line once.
   */
  @OnBridgeEvent('call.adopted')
  resume(event: CallAdoptedEvent): void {
    if (event.notify) this.destinations.set(event.callId, event.notify);
    void this.notifications.takeOverCall(event.callId, () => {
      this.announcement(event);
      for (const line of event.priorLines) this.line(line);
    });
  }

  private announcement({ callId, context, profile }: Pick<CallAcceptedEvent, 'callId' | 'context' | 'profile'>): void {
    const parts = [`📞 **Incoming call** from ${callerOf(context)}`];
    if (context.dialledNumber) parts.push(`to ${context.dialledNumber}`);
    if (context.forwardedFrom) parts.push(`forwarded from ${context.forwardedFrom}`);
    if (profile !== 'default') parts.push(`(agent: ${escapeMarkdown(profile)})`);
    this.notify(callId, `${callId}:announce`, this.texts(callId, parts.join(' ')));
  }

  /** Handed to another replica, which announces the rest of the call. */
  @OnBridgeEvent('call.detached')
  forget({ callId }: CallDetachedEvent): void {
    this.destinations.delete(callId);
    this.notifications.forgetCall(callId);
  }

  /** A call no agent profile answers, rejected as the tenants file says (a caller who hung up first is not news). */
  @OnBridgeEvent('call.rejected')
  announceRejection({ callId, context, reason, statusCode }: CallRejectedEvent): void {
    // A caller who hung up before the answer is no news; a caller turned away is.
    if (reason === 'caller_gone') return;
    const parts = [`🚫 **Call rejected** from ${callerOf(context)}`];
    if (context.dialledNumber) parts.push(`to ${context.dialledNumber}`);
    if (context.forwardedFrom) parts.push(`forwarded from ${context.forwardedFrom}`);
    const status = statusCode === undefined ? '' : ` (${SIP_STATUS[statusCode] ?? `SIP ${statusCode}`})`;
    this.notify(callId, `${callId}:rejected`, this.texts(callId, `${parts.join(' ')}: ${WHY_REJECTED[reason]}${status}`));
  }

  @OnBridgeEvent('transcript.line')
  line(line: TranscriptLine): void {
    this.notify(line.callId, `${line.callId}:line:${line.seq}`, this.texts(line.callId, escapeMarkdown(formatLine(line))));
  }

  @OnBridgeEvent('call.transcript.completed')
  summarise({ callId, lines, ended }: CallTranscriptCompletedEvent): void {
    const seconds = Math.max(0, Math.round((ended.endedAt.getTime() - ended.acceptedAt.getTime()) / 1000));
    const duration = seconds >= 60 ? `${Math.floor(seconds / 60)} min ${seconds % 60} s` : `${seconds} s`;
    const summary = `☎️ **Call ended** after ${duration} (${ended.reason.replace(/_/g, ' ')}), ${lines.length} line${lines.length === 1 ? '' : 's'}`;
    const transcript = lines.map((l) => formatLine(l)).join('\n');
    const inline = `${summary}\n${lines.map((l) => escapeMarkdown(formatLine(l))).join('\n')}`;
    const payload: NotificationPayload =
      lines.length > 0 && codePointLength(inline) > PIECE_LIMIT
        ? { kind: 'file', text: `${summary}; the full transcript is attached.`, callTag: callTag(callId), fileName: `transcript-${callId}.txt`, fileContent: `${transcript}\n` }
        : { kind: 'text', text: lines.length > 0 ? inline : summary, callTag: callTag(callId) };
    this.notify(callId, `${callId}:summary`, [payload]);
    this.destinations.delete(callId);
  }

  private notify(callId: string, key: string, payloads: NotificationPayload[]): void {
    this.notifications.notify(callId, key, payloads, this.destinations.get(callId));
  }

  private texts(callId: string, text: string): NotificationPayload[] {
    return splitText(text, PIECE_LIMIT).map((piece) => ({ kind: 'text' as const, text: piece, callTag: callTag(callId) }));
  }
}

/** Numbers are E.164 (digits and a plus) and need no escaping; the raw From is caller-controlled text. */
function callerOf(context: CallAcceptedEvent['context']): string {
  return context.callerNumber ?? (context.fromUri ? `${escapeMarkdown(context.fromUri)} (not a phone number)` : 'an unknown caller');
}
