import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { script, type ConversationScript } from '#emulator';
import type { TranscriptLine } from '#events';
import { CallRecordWriter } from '#transcripts';
import { startHarness, type Harness } from './support/harness.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';

describe('live, ordered transcripts', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ TRANSCRIPT_PLACEHOLDER_MS: '300', ADMIN_API_TOKEN: ADMIN_TOKEN });
  });
  afterAll(async () => h.close());

  /** Plays a conversation; resolves with the lines published live, the completed transcript and the stored one. */
  async function converse(conversation: ConversationScript) {
    const { call } = await h.emulator.placeCall(h.webhookUrl, { script: conversation });
    const completed = await h.bus.waitFor('call.transcript.completed', (e) => e.callId === call.callId, 15_000);
    await h.app.get(CallRecordWriter).flush();
    const live = h.bus.of('transcript.line', (l) => l.callId === call.callId);
    const stored = await fetch(`${h.baseUrl}/calls/${call.callId}/transcript`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    }).then((r) => r.json() as Promise<{ lines: Array<Omit<TranscriptLine, 'callId' | 'at'> & { at: string }> }>);
    return { callId: call.callId, live, completed: completed.lines, stored: stored.lines };
  }

  const said = (lines: Array<Pick<TranscriptLine, 'speaker' | 'text'>>) => lines.map((l) => `${l.speaker}: ${l.text}`);

  it('puts a caller turn whose transcription completes after the reply before that reply', async () => {
    const { live, completed, stored } = await converse(
      script()
        .callerSays('What time do you open?', { transcription: 'late' })
        .agentSays('We open at nine.')
        .hangup(),
    );
    const expected = ['caller: What time do you open?', 'agent: We open at nine.'];
    expect(said(live)).toEqual(expected);
    expect(live.map((l) => l.seq)).toEqual([0, 1]);
    expect(said(completed)).toEqual(expected);
    expect(said(stored)).toEqual(expected);
    expect(stored.map((l) => l.seq)).toEqual([0, 1]);
  });

  it('keeps two caller turns in a row in the order they were spoken', async () => {
    const { live } = await converse(
      script()
        .callerSays('Hello?', { transcription: 'late' })
        .callerSays('Is anyone there?')
        .agentSays('Yes, I am here.')
        .hangup(),
    );
    expect(said(live)).toEqual(['caller: Hello?', 'caller: Is anyone there?', 'agent: Yes, I am here.']);
  });

  it('marks an agent turn the caller cut off as interrupted', async () => {
    const { live, stored, callId } = await converse(
      script()
        .agentSays('Our opening hours are nine to five on weekdays and ten to two on Saturdays.', { interruptedAfterWords: 4 })
        .callerSays('Sorry, are you open Sunday?')
        .agentSays('No, we are closed on Sundays.')
        .hangup(),
    );
    expect(live.map((l) => [l.speaker, l.text, l.interrupted])).toEqual([
      ['agent', 'Our opening hours are', true],
      ['caller', 'Sorry, are you open Sunday?', false],
      ['agent', 'No, we are closed on Sundays.', false],
    ]);
    expect(stored[0].interrupted).toBe(true);
    const text = await fetch(`${h.baseUrl}/calls/${callId}/transcript`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: 'text/plain' },
    }).then((r) => r.text());
    expect(text.split('\n')[0]).toMatch(/^Agent: Our opening hours are.*interrupted/);
    expect(text.split('\n')[1]).toBe('Caller: Sorry, are you open Sunday?');
  });

  it('stands in [inaudible] for a failed transcription, in its place', async () => {
    const { live } = await converse(
      script().callerSays('mumble', { transcription: 'failed' }).agentSays('Sorry, could you repeat that?').hangup(),
    );
    expect(live.map((l) => [l.speaker, l.text, l.placeholder])).toEqual([
      ['caller', '[inaudible]', true],
      ['agent', 'Sorry, could you repeat that?', false],
    ]);
  });

  it('does not let a transcription that never completes hold the rest of the call hostage', async () => {
    const conversation = script()
      .callerSays('this never gets transcribed', { transcription: 'never' })
      .agentSays('Could you say that again?')
      .pause(1500) // the call goes on well past the placeholder wait (300 ms, released on a 250 ms tick)
      .callerSays('I said hello.')
      .hangup();
    const { call } = await h.emulator.placeCall(h.webhookUrl, { script: conversation });
    // Released while the call is still live, not only at hang-up.
    const agentLine = await h.bus.waitFor('transcript.line', (l) => l.callId === call.callId && l.speaker === 'agent');
    const ended = await h.bus.waitFor('call.ended', (e) => e.callId === call.callId);
    expect(agentLine.at.getTime()).toBeLessThan(ended.endedAt.getTime() - 500);
    const live = h.bus.of('transcript.line', (l) => l.callId === call.callId);
    expect(live.map((l) => [l.speaker, l.text, l.placeholder])).toEqual([
      ['caller', '[inaudible]', true],
      ['agent', 'Could you say that again?', false],
      ['caller', 'I said hello.', false],
    ]);
  });

  it('reads beta event names and text-only sessions alike', async () => {
    const { live } = await converse(
      script()
        .callerSays('Hi')
        .agentSays('Hello from a beta session.', { beta: true })
        .callerSays('And text?')
        .agentSays('Text works too.', { modality: 'text', beta: true })
        .agentSays('GA text as well.', { modality: 'text' })
        .hangup(),
    );
    expect(said(live)).toEqual([
      'caller: Hi',
      'agent: Hello from a beta session.',
      'caller: And text?',
      'agent: Text works too.',
      'agent: GA text as well.',
    ]);
  });

  it('skips empty turns and ignores tool-call items between turns', async () => {
    const { live } = await converse(
      script()
        .callerSays('   ')
        .callerSays('Where is my order 42?')
        .toolCall('lookup_order', { id: '42' })
        .agentSays('It shipped today.')
        .hangup(),
    );
    expect(said(live)).toEqual(['caller: Where is my order 42?', 'agent: It shipped today.']);
  });

  it('keeps a 200-turn call in order, live and stored', async () => {
    const conversation = script();
    for (let turn = 0; turn < 200; turn++) {
      conversation.callerSays(`Question number ${turn}?`, { transcription: turn % 3 === 0 ? 'late' : 'inline' });
      conversation.agentSays(`Answer number ${turn}.`);
    }
    const { live, stored, completed } = await converse(conversation.hangup());
    const expected = Array.from({ length: 200 }, (_, turn) => [`caller: Question number ${turn}?`, `agent: Answer number ${turn}.`]).flat();
    expect(said(live)).toEqual(expected);
    expect(said(completed)).toEqual(expected);
    expect(said(stored)).toEqual(expected);
    expect(stored.map((l) => l.seq)).toEqual(expected.map((_, i) => i));
  });

  it('records the call: numbers, profile, times and how it ended', async () => {
    const { callId } = await converse(script().callerSays('Bye').hangup());
    const record = (await fetch(`${h.baseUrl}/calls/${callId}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }).then((r) => r.json())) as Record<string, string>;
    expect(record).toMatchObject({
      callId,
      status: 'ended',
      endReason: 'remote_closed',
      profile: 'default',
      callerNumber: '+14155550123',
      dialledNumber: '+18005551212',
    });
    expect(new Date(record.endedAt).getTime()).toBeGreaterThanOrEqual(new Date(record.acceptedAt).getTime());
  });
});
