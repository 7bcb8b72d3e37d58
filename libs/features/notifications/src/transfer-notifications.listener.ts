import { Injectable } from '@nestjs/common';
import { CallNotifications, callTag } from './call-notifications.listener.js';
import { escapeMarkdown, splitText, SAFE_CONTENT_LIMIT } from './discord/discord-text.js';
import type { NotificationPayload } from './notification.js';
import { Notifications } from './notifications.service.js';
import { OnBridgeEvent, type CallTransferEvent } from '#events';
import { formatLine, LiveTranscripts } from '#transcripts';

/** Room left in a message for the call header that the queue may put in front of a piece. */
const PIECE_LIMIT = SAFE_CONTENT_LIMIT - 40;
/** The most of the conversation a briefing quotes: its latest lines, up to this many characters. */
const BRIEFING_TRANSCRIPT_CHARS = 1200;

/**
 * What the team sees of a warm transfer, at the call's Discord destinations: a briefing as soon as the human's
 * phone rings — who is calling, why, and the latest of the conversation, so they pick up informed — then whether
 * they joined, or did not answer, were busy, or could not be reached.
 */
@Injectable()
export class TransferNotifications {
  constructor(
    private readonly notifications: Notifications,
    private readonly calls: CallNotifications,
    private readonly transcripts: LiveTranscripts,
  ) {}

  @OnBridgeEvent('call.transfer')
  onTransfer(event: CallTransferEvent): void {
    const { callId, attempt, status } = event;
    const text = status === 'dialing' ? this.briefing(event) : outcome(event);
    const payloads: NotificationPayload[] = splitText(text, PIECE_LIMIT).map((piece) => ({
      kind: 'text',
      text: piece,
      callTag: callTag(callId),
    }));
    this.notifications.notify(callId, `${callId}:transfer:${attempt}:${status}`, payloads, this.calls.destinationsOf(callId));
  }

  private briefing({ callId, reason, callerNumber, humanLabel }: CallTransferEvent): string {
    // Numbers are E.164 (digits and a plus); everything else the caller or the model influenced is escaped.
    const parts = [`🔀 **Transfer to ${escapeMarkdown(humanLabel ?? 'a human')}**: their phone is ringing now.`];
    parts.push(`From: ${callerNumber ?? 'an unknown number'}`);
    if (reason) parts.push(`Why: ${escapeMarkdown(reason)}`);
    const lines = this.transcripts.linesSoFar(callId).map((line) => escapeMarkdown(formatLine(line)));
    const latest: string[] = [];
    let length = 0;
    for (let i = lines.length - 1; i >= 0 && length + lines[i].length <= BRIEFING_TRANSCRIPT_CHARS; i--) {
      latest.unshift(lines[i]);
      length += lines[i].length + 1;
    }
    // One long last line still shows, cut (the whole transcript comes with the call's summary).
    if (latest.length === 0 && lines.length > 0) latest.push(`${[...lines[lines.length - 1]].slice(0, BRIEFING_TRANSCRIPT_CHARS).join('')}…`);
    if (lines.length === 0) parts.push('Nothing was said yet.');
    else parts.push(`${latest.length < lines.length ? `The conversation so far (last ${latest.length} of ${lines.length} lines)` : 'The conversation so far'}:`, ...latest);
    return parts.join('\n');
  }
}

function outcome({ status, humanLabel, detail }: CallTransferEvent): string {
  const who = escapeMarkdown(humanLabel ?? 'The human');
  switch (status) {
    case 'joined':
      return `✅ **${who} joined**: the caller is with them, the agent has left the call.`;
    case 'no_answer':
      return `⚠️ **Transfer not answered**: ${who} did not pick up. The agent is still with the caller.`;
    case 'busy':
      return `⚠️ **Transfer failed**: ${who} was busy. The agent is still with the caller.`;
    default:
      return `⚠️ **Transfer failed**${detail ? ` (${escapeMarkdown(detail)})` : ''}. The agent is still with the caller.`;
  }
}
