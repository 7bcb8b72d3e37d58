import type { CallRecordWrite } from '#storage';

/** What a busy deployment's console shows, written straight to storage: many live calls and one long call. */
export interface ConsoleSeed {
  writes: CallRecordWrite[];
  /** The live calls' ids, newest first (the order the live list shows them). */
  liveIds: string[];
  /** The long call's id. */
  longCallId: string;
}

/**
 * `liveCalls` live calls accepted a second apart (the newest `now`), each with one caller line, and a call of
 * `longCallLines` lines accepted an hour before `now`, caller and agent taking turns (every 17th interrupted), ended
 * (the caller hung up) after its last line.
 */
export function consoleSeed({ liveCalls, longCallLines, now = Date.now() }: { liveCalls: number; longCallLines: number; now?: number }): ConsoleSeed {
  const writes: CallRecordWrite[] = [];
  const liveIds: string[] = [];
  const record = { forwardedFrom: null, fromUri: null, sipCallId: null, twilioCallSid: null, conferenceName: null, metadata: null, dialledNumber: '+18005551212' };
  for (let i = 0; i < liveCalls; i++) {
    const callId = `rtc_live_${String(i).padStart(5, '0')}`;
    liveIds.push(callId);
    writes.push(
      { kind: 'create', record: { ...record, callId, profile: i % 3 ? 'default' : 'sales', callerNumber: `+1415555${String(i).padStart(4, '0')}`, acceptedAt: new Date(now - i * 1000) } },
      { kind: 'lines', lines: [{ callId, seq: 0, speaker: 'caller', text: 'Hello, I would like to check on my order please.', itemId: null, interrupted: false, placeholder: false, at: new Date(now - i * 1000 + 500) }] },
    );
  }
  const longCallId = 'rtc_long_call';
  writes.push({ kind: 'create', record: { ...record, callId: longCallId, profile: 'default', callerNumber: '+14155550000', acceptedAt: new Date(now - 3_600_000) } });
  writes.push({
    kind: 'lines',
    lines: Array.from({ length: longCallLines }, (_, seq) => ({
      callId: longCallId,
      seq,
      speaker: seq % 2 ? ('agent' as const) : ('caller' as const),
      text: `Line ${seq}: a sentence of the kind people say on the phone, neither short nor long.`,
      itemId: null,
      interrupted: seq % 17 === 0,
      placeholder: false,
      at: new Date(now - 3_600_000 + seq * 5000),
    })),
  });
  writes.push({ kind: 'end', callId: longCallId, end: { status: 'ended', endedAt: new Date(now - 3_600_000 + longCallLines * 5000), endReason: 'remote_closed' } });
  return { writes, liveIds, longCallId };
}
