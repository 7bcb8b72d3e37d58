import { describe, expect, it } from '@jest/globals';
import type { CallNotifications } from './call-notifications.listener.js';
import type { NotificationPayload } from './notification.js';
import type { Notifications } from './notifications.service.js';
import { TransferNotifications } from './transfer-notifications.listener.js';
import type { CallTransferEvent, TranscriptLine } from '#events';
import type { LiveTranscripts } from '#transcripts';

function listener(lines: TranscriptLine[], destinations?: string[]) {
  const sent: Array<{ callId: string | null; key: string; payloads: NotificationPayload[]; destinations?: readonly string[] }> = [];
  const notifications = { notify: (callId, key, payloads, to) => sent.push({ callId, key, payloads, destinations: to }) } as Pick<Notifications, 'notify'>;
  const calls = { destinationsOf: () => destinations } as Pick<CallNotifications, 'destinationsOf'>;
  const transcripts = { linesSoFar: () => lines } as Pick<LiveTranscripts, 'linesSoFar'>;
  const subject = new TransferNotifications(notifications as Notifications, calls as CallNotifications, transcripts as LiveTranscripts);
  const text = () => sent.flatMap((s) => s.payloads.map((p) => p.text)).join('\n');
  return { subject, sent, text };
}

const line = (seq: number, speaker: 'caller' | 'agent', text: string): TranscriptLine => ({
  callId: 'rtc_abc123',
  seq,
  speaker,
  text,
  itemId: `item_${seq}`,
  interrupted: false,
  placeholder: false,
  at: new Date(),
});

const dialing: CallTransferEvent = {
  callId: 'rtc_abc123',
  attempt: 'att_1',
  status: 'dialing',
  reason: 'a *refund* for order 42',
  callerNumber: '+14155550123',
  humanLabel: 'billing desk',
  at: new Date(),
};

describe('transfer notifications', () => {
  it("briefs the call's destinations: who calls, why (escaped), and the conversation so far", () => {
    const { subject, sent, text } = listener([line(0, 'caller', 'I want my money back'), line(1, 'agent', 'Let me get someone.')], ['dest_acme']);
    subject.onTransfer(dialing);
    expect(sent).toEqual([expect.objectContaining({ callId: 'rtc_abc123', key: 'rtc_abc123:transfer:att_1:dialing', destinations: ['dest_acme'] })]);
    expect(text()).toBe(
      [
        '🔀 **Transfer to billing desk**: their phone is ringing now.',
        'From: +14155550123',
        'Why: a \\*refund\\* for order 42',
        'The conversation so far:',
        'Caller: I want my money back',
        'Agent: Let me get someone.',
      ].join('\n'),
    );
  });

  it('shortens a long conversation to its latest lines', () => {
    const lines = Array.from({ length: 60 }, (_, i) => line(i, i % 2 ? 'agent' : 'caller', `turn number ${i} ${'words '.repeat(8)}`.trim()));
    const { subject, text } = listener(lines);
    subject.onTransfer(dialing);
    const briefing = text();
    expect(briefing).toMatch(/The conversation so far \(last \d+ of 60 lines\):/);
    expect(briefing).toContain('turn number 59');
    expect(briefing).not.toContain('turn number 0 ');
    expect(briefing.length).toBeLessThan(1600);
  });

  it('says when nothing was said yet, and reports each outcome once per attempt', () => {
    const { subject, sent, text } = listener([]);
    subject.onTransfer({ ...dialing, reason: undefined, callerNumber: undefined });
    subject.onTransfer({ callId: 'rtc_abc123', attempt: 'att_1', status: 'no_answer', humanLabel: 'billing desk', at: new Date() });
    expect(text()).toContain('From: an unknown number\nNothing was said yet.');
    expect(text()).toContain('⚠️ **Transfer not answered**: billing desk did not pick up. The agent is still with the caller.');
    expect(sent.map((s) => s.key)).toEqual(['rtc_abc123:transfer:att_1:dialing', 'rtc_abc123:transfer:att_1:no_answer']);
  });
});
