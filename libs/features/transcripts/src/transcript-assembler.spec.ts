import { describe, expect, it } from '@jest/globals';
import { script, type ConversationScript } from '#emulator';
import type { RealtimeServerEvent } from '#events';
import { TranscriptAssembler, type TranscriptAssemblerOptions } from './transcript-assembler.js';
import { formatLine, INAUDIBLE, type TranscriptLine } from './transcript-line.js';

const WAIT_MS = 3000;

/** An assembler on a hand-driven clock, recording what onLine received. */
function setup(overrides: Partial<TranscriptAssemblerOptions> = {}) {
  const clock = { now: 1_000_000 };
  const received: TranscriptLine[] = [];
  const assembler = new TranscriptAssembler({
    callId: 'rtc_test',
    placeholderAfterMs: WAIT_MS,
    now: () => clock.now,
    onLine: (line) => received.push(line),
    ...overrides,
  });
  const feed = (source: ConversationScript | RealtimeServerEvent[]) => {
    const events = Array.isArray(source)
      ? source
      : source.steps.flatMap((step) => (step.kind === 'send' ? [step.event] : []));
    for (const event of events) assembler.handle(event);
  };
  return { assembler, received, clock, feed };
}

/** `Caller: …` / `Agent: …` for compact assertions. */
function rendered(lines: readonly TranscriptLine[]): string[] {
  return lines.map((line) => formatLine(line));
}

function expectConsecutive(lines: readonly TranscriptLine[]): void {
  expect(lines.map((line) => line.seq)).toEqual(lines.map((_, index) => index));
}

// Hand-written event builders (GA names, as they reach the assembler).
const speechStarted = (itemId: string): RealtimeServerEvent => ({ type: 'input_audio_buffer.speech_started', item_id: itemId, audio_start_ms: 0 });
const committed = (itemId: string, previous: string | null): RealtimeServerEvent => ({
  type: 'input_audio_buffer.committed',
  item_id: itemId,
  previous_item_id: previous,
});
const userAudioAdded = (itemId: string, previous: string | null): RealtimeServerEvent => ({
  type: 'conversation.item.added',
  previous_item_id: previous,
  item: { id: itemId, type: 'message', role: 'user', content: [{ type: 'input_audio', transcript: null }] },
});
const assistantAdded = (itemId: string, previous: string | null): RealtimeServerEvent => ({
  type: 'conversation.item.added',
  previous_item_id: previous,
  item: { id: itemId, type: 'message', role: 'assistant', status: 'in_progress', content: [] },
});
const transcribed = (itemId: string, transcript: string): RealtimeServerEvent => ({
  type: 'conversation.item.input_audio_transcription.completed',
  item_id: itemId,
  content_index: 0,
  transcript,
});
const callerDelta = (itemId: string, delta: string): RealtimeServerEvent => ({
  type: 'conversation.item.input_audio_transcription.delta',
  item_id: itemId,
  content_index: 0,
  delta,
});
const agentDelta = (itemId: string, delta: string, responseId = 'resp_x'): RealtimeServerEvent => ({
  type: 'response.output_audio_transcript.delta',
  response_id: responseId,
  item_id: itemId,
  delta,
});
const agentTranscriptDone = (itemId: string, transcript: string, responseId = 'resp_x'): RealtimeServerEvent => ({
  type: 'response.output_audio_transcript.done',
  response_id: responseId,
  item_id: itemId,
  transcript,
});
const outputItemDone = (itemId: string, status = 'completed', responseId = 'resp_x'): RealtimeServerEvent => ({
  type: 'response.output_item.done',
  response_id: responseId,
  item: { id: itemId, type: 'message', role: 'assistant', status, content: [] },
});
const responseDone = (responseId: string, status: string, output: unknown[] = []): RealtimeServerEvent => ({
  type: 'response.done',
  response: { id: responseId, status, output },
});

/** A complete agent message at an explicit position. */
function agentTurn(itemId: string, previous: string | null, text: string, responseId = `resp_${itemId}`): RealtimeServerEvent[] {
  return [
    assistantAdded(itemId, previous),
    agentDelta(itemId, text, responseId),
    agentTranscriptDone(itemId, text, responseId),
    outputItemDone(itemId, 'completed', responseId),
    responseDone(responseId, 'completed'),
  ];
}

/** A complete caller turn at an explicit position (transcription included unless `text` is undefined). */
function callerTurn(itemId: string, previous: string | null, text?: string): RealtimeServerEvent[] {
  const events = [speechStarted(itemId), committed(itemId, previous), userAudioAdded(itemId, previous)];
  if (text !== undefined) events.push(transcribed(itemId, text));
  return events;
}

describe('TranscriptAssembler', () => {
  describe('conversation order', () => {
    it('emits plain alternating turns in order', () => {
      const { assembler, received: all, feed } = setup();
      feed(
        script()
          .agentSays('Thanks for calling, how can I help?')
          .callerSays('Where is my order?')
          .agentSays('Let me check that for you.')
          .callerSays('Thanks.'),
      );
      expect(rendered(all)).toEqual([
        'Agent: Thanks for calling, how can I help?',
        'Caller: Where is my order?',
        'Agent: Let me check that for you.',
        'Caller: Thanks.',
      ]);
      expectConsecutive(all);
      expect(all.map((line) => line.speaker)).toEqual(['agent', 'caller', 'agent', 'caller']);
      expect(all.every((line) => line.callId === 'rtc_test' && !line.placeholder && !line.interrupted)).toBe(true);
      expect(assembler.lines).toEqual(all);
    });

    it('emits a caller transcription that completes after the agent reply before that reply (the reply waits)', () => {
      const { received, feed } = setup();
      const conversation = script()
        .agentSays('What is the order number?')
        .callerSays('It is four two one seven.', { transcription: 'late' })
        .agentSays('Order 4217 shipped yesterday.');
      const events = conversation.steps.flatMap((step) => (step.kind === 'send' ? [step.event] : []));
      const late = events.findIndex((event) => event.type === 'conversation.item.input_audio_transcription.completed' && event.transcript === 'It is four two one seven.');
      const replyDone = events.findIndex((event) => event.type === 'response.done' && (event.response as { id: string }).id === 'resp_3');
      expect(late).toBeGreaterThan(replyDone); // the script really completes the transcription after the reply

      feed(events.slice(0, late));
      expect(rendered(received)).toEqual(['Agent: What is the order number?']);
      feed(events.slice(late));
      expect(rendered(received)).toEqual([
        'Agent: What is the order number?',
        'Caller: It is four two one seven.',
        'Agent: Order 4217 shipped yesterday.',
      ]);
      expectConsecutive(received);
    });

    it('keeps two caller turns back to back in order, even when the first completes last', () => {
      const { received, feed } = setup();
      feed(
        script()
          .agentSays('Hello?')
          .callerSays('Hi, one moment.', { transcription: 'late' })
          .callerSays('Okay, I am back.')
          .agentSays('No problem.'),
      );
      expect(rendered(received)).toEqual([
        'Agent: Hello?',
        'Caller: Hi, one moment.',
        'Caller: Okay, I am back.',
        'Agent: No problem.',
      ]);
      expectConsecutive(received);
    });

    it('places items by previous_item_id, not by arrival order', () => {
      const { received, feed } = setup();
      feed([
        ...agentTurn('a0', null, 'Hello.'),
        committed('c1', 'a0'),
        userAudioAdded('c1', 'a0'),
        // c2 is announced before c1's successor: it names c1 as predecessor, the agent item names c2.
        assistantAdded('a3', 'c2'), // unknown predecessor yet: appended
        committed('c2', 'c1'),
        userAudioAdded('c2', 'c1'),
        agentDelta('a3', 'Got it.', 'r3'),
        agentTranscriptDone('a3', 'Got it.', 'r3'),
        outputItemDone('a3', 'completed', 'r3'),
        transcribed('c2', 'second'),
        transcribed('c1', 'first'),
      ]);
      expect(rendered(received)).toEqual(['Agent: Hello.', 'Caller: first', 'Caller: second', 'Agent: Got it.']);
    });

    it('inserts an item after its predecessor when later items are already known', () => {
      const { received, feed } = setup();
      feed([
        ...callerTurn('c1', null), // no transcription yet: everything after it waits
        assistantAdded('a2', 'c1'),
        // Each of these arrives later but names c1 as predecessor: c1, a1, f1, a2.
        { type: 'conversation.item.added', previous_item_id: 'c1', item: { id: 'f1', type: 'function_call', call_id: 'call_1' } },
        assistantAdded('a1', 'c1'),
        agentTranscriptDone('a2', 'second reply', 'r2'),
        outputItemDone('a2', 'completed', 'r2'),
        agentTranscriptDone('a1', 'first reply', 'r1'),
        outputItemDone('a1', 'completed', 'r1'),
      ]);
      expect(received).toEqual([]);
      feed([transcribed('c1', 'question')]);
      expect(rendered(received)).toEqual(['Caller: question', 'Agent: first reply', 'Agent: second reply']);
    });

    it('puts a null previous_item_id first only while nothing has been emitted; afterwards it appends', () => {
      const early = setup();
      early.feed([...callerTurn('c1', null), assistantAdded('a0', null), transcribed('c1', 'hi')]);
      early.feed([agentTranscriptDone('a0', 'greeting', 'r0'), outputItemDone('a0', 'completed', 'r0')]);
      expect(rendered(early.received)).toEqual(['Agent: greeting', 'Caller: hi']);

      const late = setup();
      late.feed([...agentTurn('a0', null, 'greeting'), ...callerTurn('c1', null, 'hi')]);
      expect(rendered(late.received)).toEqual(['Agent: greeting', 'Caller: hi']);
    });

    it('appends an item whose predecessor was already emitted right after the emitted prefix', () => {
      const { received, feed } = setup();
      feed([...agentTurn('a0', null, 'Hello.'), ...callerTurn('c1', 'a0'), assistantAdded('a2', 'c1')]);
      // A user text item inserted after a0 although c1 already follows it: placed at the head of what is pending.
      feed([
        { type: 'conversation.item.added', previous_item_id: 'a0', item: { id: 'x', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'note' }] } },
        transcribed('c1', 'Hi.'),
        agentTranscriptDone('a2', 'Yes?', 'r2'),
        outputItemDone('a2', 'completed', 'r2'),
      ]);
      expect(rendered(received)).toEqual(['Agent: Hello.', 'Caller: Hi.', 'Agent: Yes?']);
    });

    it('keeps an item in place when it is seen again, and ignores events about emitted items', () => {
      const { received, feed } = setup();
      feed([
        ...agentTurn('a0', null, 'One.'),
        ...callerTurn('c1', 'a0', 'Two.'),
        ...agentTurn('a2', 'c1', 'Three.'),
        userAudioAdded('c1', null), // seen again, with a different predecessor: ignored
        { type: 'conversation.item.done', item: { id: 'c1', type: 'message', role: 'user', content: [] } },
        transcribed('c1', 'Two, again.'),
        agentTranscriptDone('a2', 'Three, again.', 'resp_a2'),
        outputItemDone('a2', 'incomplete', 'resp_a2'),
      ]);
      expect(rendered(received)).toEqual(['Agent: One.', 'Caller: Two.', 'Agent: Three.']);
      expectConsecutive(received);
    });

    it('moves a speech_started reservation to the position its commit gives', () => {
      const { received, feed } = setup();
      feed([
        ...agentTurn('a0', null, 'Hello.'),
        speechStarted('c2'), // reserved at the end (after a0)
        ...callerTurn('c1', 'a0'), // c1 was really first: inserted after a0, before the reservation
        committed('c2', 'c1'),
        userAudioAdded('c2', 'c1'),
        transcribed('c2', 'second'),
      ]);
      expect(rendered(received)).toEqual(['Agent: Hello.']); // c2 waits for c1
      feed([transcribed('c1', 'first')]);
      expect(rendered(received)).toEqual(['Agent: Hello.', 'Caller: first', 'Caller: second']);
    });

    it('keeps a 200-turn call in order with seq 0..n-1', () => {
      const { assembler, received, feed } = setup();
      const conversation = script();
      const expected: string[] = [];
      for (let turn = 0; turn < 200; turn++) {
        const callerText = `Caller question number ${turn}.`;
        const agentText = `Agent answer number ${turn}.`;
        conversation.callerSays(callerText, { transcription: turn % 3 === 0 ? 'late' : 'inline' });
        conversation.agentSays(agentText, turn % 10 === 9 ? { modality: 'text' } : {});
        expected.push(`Caller: ${callerText}`, `Agent: ${agentText}`);
      }
      feed(conversation);
      expect(rendered(received)).toEqual(expected);
      expectConsecutive(received);
      expect(assembler.lines).toHaveLength(400);
      expect(assembler.nextDeadline).toBeUndefined();
    });
  });

  describe('agent turns', () => {
    it('marks an interrupted agent turn and keeps the caller turn that cut it off after it', () => {
      const { received, feed } = setup();
      feed(
        script()
          .agentSays('Is there anything else I can help you with today?', { interruptedAfterWords: 4 })
          .callerSays("No, that's all."),
      );
      expect(received.map(({ speaker, text, interrupted }) => ({ speaker, text, interrupted }))).toEqual([
        { speaker: 'agent', text: 'Is there anything else', interrupted: true },
        { speaker: 'caller', text: "No, that's all.", interrupted: false },
      ]);
      expect(formatLine(received[0]!)).toBe('Agent: Is there anything else… [interrupted]');
    });

    it('marks a turn interrupted when only response.done says it was cancelled', () => {
      const { received, feed } = setup();
      feed([
        assistantAdded('a0', null),
        agentDelta('a0', 'Let me', 'r0'),
        agentDelta('a0', ' explain', 'r0'),
        agentTranscriptDone('a0', 'Let me explain', 'r0'),
      ]);
      expect(received).toEqual([]); // the transcript is done, not the turn: whether it was cut off is not known yet
      feed([responseDone('r0', 'cancelled')]); // lists no output: matched through the response id of the deltas
      expect(received).toMatchObject([{ speaker: 'agent', text: 'Let me explain', interrupted: true }]);
    });

    it('matches response.done to agent items through response.output', () => {
      const { received, feed } = setup();
      feed([
        assistantAdded('a0', null),
        agentDelta('a0', 'Hello there', 'r0'),
        responseDone('r9', 'completed', [{ id: 'a0', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_audio', transcript: 'Hello there.' }] }]),
      ]);
      expect(rendered(received)).toEqual(['Agent: Hello there.']); // the item's own transcript beats the deltas
    });

    it('emits an agent turn whose transcript is done but whose item never finishes after the bounded wait', () => {
      const { assembler, received, clock, feed } = setup();
      feed([assistantAdded('a0', null), agentDelta('a0', 'Hi', 'r0'), agentTranscriptDone('a0', 'Hi!', 'r0')]);
      expect(assembler.nextDeadline).toBe(clock.now + WAIT_MS);
      clock.now += WAIT_MS - 1;
      assembler.tick();
      expect(received).toEqual([]);
      clock.now += 1;
      assembler.tick();
      expect(received).toMatchObject([{ speaker: 'agent', text: 'Hi!', interrupted: false }]);
    });

    it('transcribes the text modality', () => {
      const { received, feed } = setup();
      feed(script().callerSays('Can you text me?').agentSays('Sure, here it is.', { modality: 'text' }));
      expect(rendered(received)).toEqual(['Caller: Can you text me?', 'Agent: Sure, here it is.']);
    });

    it('accepts an agent message announced only by response.output_item.added', () => {
      const { received, feed } = setup();
      feed([
        ...agentTurn('a0', null, 'Hello.'),
        ...callerTurn('c1', 'a0', 'Hi.'),
        { type: 'response.output_item.added', response_id: 'r2', item: { id: 'a2', type: 'message', role: 'assistant', content: [] } },
        agentDelta('a2', 'How can I help?', 'r2'),
        responseDone('r2', 'completed'),
      ]);
      expect(rendered(received)).toEqual(['Agent: Hello.', 'Caller: Hi.', 'Agent: How can I help?']);
    });

    it('handles GA events of a conversation scripted with beta names once they are mapped', () => {
      const betaToGa: Record<string, string> = {
        'conversation.item.created': 'conversation.item.added',
        'response.audio_transcript.delta': 'response.output_audio_transcript.delta',
        'response.audio_transcript.done': 'response.output_audio_transcript.done',
        'response.text.delta': 'response.output_text.delta',
        'response.text.done': 'response.output_text.done',
        'response.audio.delta': 'response.output_audio.delta',
        'response.audio.done': 'response.output_audio.done',
      };
      const beta = script()
        .agentSays('Hello from beta.', { beta: true, audioDeltas: 2, audioDeltaBytes: 64 })
        .callerSays('Hi.', { transcription: 'late' })
        .agentSays('Text from beta.', { beta: true, modality: 'text' });
      const events = beta.steps.flatMap((step) => (step.kind === 'send' ? [step.event] : []));
      expect(events.some((event) => event.type in betaToGa)).toBe(true);
      const { received, feed } = setup();
      feed(events.map((event) => ({ ...event, type: betaToGa[event.type] ?? event.type })));
      expect(rendered(received)).toEqual(['Agent: Hello from beta.', 'Caller: Hi.', 'Agent: Text from beta.']);
    });
  });

  describe('caller turns', () => {
    it('emits a failed transcription as an [inaudible] placeholder', () => {
      const { received, feed } = setup();
      feed(script().agentSays('Hello?').callerSays('mumble', { transcription: 'failed' }).agentSays('Sorry, could you repeat that?'));
      expect(received.map(({ text, placeholder }) => ({ text, placeholder }))).toEqual([
        { text: 'Hello?', placeholder: false },
        { text: INAUDIBLE, placeholder: true },
        { text: 'Sorry, could you repeat that?', placeholder: false },
      ]);
      expect(formatLine(received[1]!)).toBe('Caller: [inaudible]');
    });

    it('gives up on a transcription that never completes after the bounded wait, then releases the reply', () => {
      const { assembler, received, clock, feed } = setup();
      const committedAt = clock.now;
      feed(script().agentSays('Hello?').callerSays('I never get transcribed', { transcription: 'never' }));
      clock.now += 500;
      feed(script().agentSays('Are you still there?').steps.flatMap((step) => (step.kind === 'send' ? [asReplyToCallerTwo(step.event)] : [])));
      expect(rendered(received)).toEqual(['Agent: Hello?']);
      expect(assembler.nextDeadline).toBe(committedAt + WAIT_MS);

      clock.now = committedAt + WAIT_MS - 1;
      assembler.tick();
      expect(received).toHaveLength(1);
      clock.now = committedAt + WAIT_MS;
      assembler.tick();
      expect(received.slice(1)).toMatchObject([
        { speaker: 'caller', text: INAUDIBLE, placeholder: true, itemId: 'item_caller_2' },
        { speaker: 'agent', text: 'Are you still there?', placeholder: false, itemId: 'reply' },
      ]);
      expect(received[2]!.at.getTime()).toBe(clock.now);
      // The transcription finally arriving changes nothing: lines are never re-emitted.
      feed([transcribed('item_caller_2', 'I never get transcribed')]);
      expect(received).toHaveLength(3);
      expect(assembler.nextDeadline).toBeUndefined();
    });

    it('uses the deltas received so far as the placeholder text of a transcription that stalls', () => {
      const { assembler, received, clock, feed } = setup();
      feed([...callerTurn('c1', null), callerDelta('c1', 'I would like'), callerDelta('c1', ' to')]);
      clock.now += WAIT_MS;
      assembler.tick();
      expect(received).toMatchObject([{ text: 'I would like to', placeholder: true }]);
      expect(formatLine(received[0]!)).toBe('Caller: I would like to… [partial]');
    });

    it('lets a speech_started that is never committed expire without a line and without blocking', () => {
      const { assembler, received, clock, feed } = setup();
      feed([...agentTurn('a0', null, 'Hello.'), speechStarted('noise')]);
      // The reply that follows names its real predecessor: it is not held behind the reservation.
      feed(agentTurn('a1', 'a0', 'Anything else?'));
      expect(rendered(received)).toEqual(['Agent: Hello.', 'Agent: Anything else?']);
      // Something only appended after the reservation waits for it, but only until its deadline.
      feed([{ type: 'response.output_item.added', response_id: 'r2', item: { id: 'a2', type: 'message', role: 'assistant' } }, agentDelta('a2', 'Hello?', 'r2'), outputItemDone('a2', 'completed', 'r2')]);
      expect(received).toHaveLength(2);
      clock.now += WAIT_MS;
      assembler.tick();
      expect(rendered(received)).toEqual(['Agent: Hello.', 'Agent: Anything else?', 'Agent: Hello?']);
      expect(received.some((line) => line.itemId === 'noise')).toBe(false);
      expect(assembler.nextDeadline).toBeUndefined();
    });

    it('gives typed user items (DTMF notes we inject) no line and does not wait for them', () => {
      const { received, feed } = setup();
      feed([
        ...agentTurn('a0', null, 'Press 1 for sales.'),
        { type: 'conversation.item.added', previous_item_id: 'a0', item: { id: 'dtmf1', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'The caller pressed 1' }] } },
        { type: 'conversation.item.done', item: { id: 'dtmf1', type: 'message', role: 'user', content: [{ type: 'input_text', text: 'The caller pressed 1' }] } },
        ...agentTurn('a1', 'dtmf1', 'Connecting you to sales.'),
      ]);
      expect(rendered(received)).toEqual(['Agent: Press 1 for sales.', 'Agent: Connecting you to sales.']);
      expectConsecutive(received);
    });

    it('produces no caller lines and never waits for callers when caller transcription is off', () => {
      const { assembler, received, feed } = setup({ callerTranscription: false });
      feed(
        script()
          .agentSays('Hello?')
          .callerSays('Hi.', { transcription: 'never' })
          .agentSays('How can I help?')
          .callerSays('Order status.', { transcription: 'late' })
          .agentSays('Sure.'),
      );
      expect(rendered(received)).toEqual(['Agent: Hello?', 'Agent: How can I help?', 'Agent: Sure.']);
      expectConsecutive(received);
      expect(assembler.nextDeadline).toBeUndefined();
    });
  });

  describe('items without a line', () => {
    it('orders tool-call items without giving them a line or waiting on them', () => {
      const { received, feed } = setup();
      feed(
        script()
          .callerSays('What is the weather in Paris?')
          .toolCall('get_weather', { city: 'Paris' })
          .send({ type: 'conversation.item.added', previous_item_id: 'item_fc_2', item: { id: 'item_out_2', type: 'function_call_output', call_id: 'call_2', output: '{"temp":21}' } })
          .agentSays('It is 21 degrees in Paris.'),
      );
      expect(rendered(received)).toEqual(['Caller: What is the weather in Paris?', 'Agent: It is 21 degrees in Paris.']);
      expectConsecutive(received);
    });

    it('skips empty and whitespace-only turns without blocking the next ones', () => {
      const { received, feed } = setup();
      feed([
        ...agentTurn('a0', null, ''),
        ...callerTurn('c1', 'a0', '   '),
        ...agentTurn('a2', 'c1', '  \n '),
        ...callerTurn('c3', 'a2', '  Hello?  '),
        ...agentTurn('a4', 'c3', ' Hi! '),
      ]);
      expect(rendered(received)).toEqual(['Caller: Hello?', 'Agent: Hi!']);
      expectConsecutive(received);
      feed(script().agentSays(''));
      expect(received).toHaveLength(2);
    });
  });

  describe('finish()', () => {
    it('flushes pending turns in order: committed callers as placeholders, agents with their partial text', () => {
      const { assembler, received, feed } = setup();
      feed([
        ...agentTurn('a0', null, 'Hello.'),
        ...callerTurn('c1', 'a0'),
        callerDelta('c1', 'Could you'),
        assistantAdded('a2', 'c1'),
        agentDelta('a2', 'Of course', 'r2'),
        agentDelta('a2', ', one', 'r2'),
        ...callerTurn('c3', 'a2'),
        speechStarted('c4'), // only reserved: no line
      ]);
      expect(rendered(received)).toEqual(['Agent: Hello.']);
      const lines = assembler.finish();
      expect(lines.map(({ seq, speaker, text, placeholder, interrupted }) => ({ seq, speaker, text, placeholder, interrupted }))).toEqual([
        { seq: 0, speaker: 'agent', text: 'Hello.', placeholder: false, interrupted: false },
        { seq: 1, speaker: 'caller', text: 'Could you', placeholder: true, interrupted: false },
        { seq: 2, speaker: 'agent', text: 'Of course, one', placeholder: false, interrupted: false },
        { seq: 3, speaker: 'caller', text: INAUDIBLE, placeholder: true, interrupted: false },
      ]);
      expect(received).toEqual(lines); // every line also went through onLine, once, in order
      expect(assembler.lines).toEqual(lines);
    });

    it('ignores everything after the call ended', () => {
      const { assembler, received, clock, feed } = setup();
      feed(script().agentSays('Bye.'));
      expect(assembler.finish()).toHaveLength(1);
      feed(script().agentSays('Ghost.'));
      clock.now += 10 * WAIT_MS;
      assembler.tick();
      expect(assembler.finish()).toHaveLength(1);
      expect(received).toHaveLength(1);
      expect(assembler.nextDeadline).toBeUndefined();
    });

    it('flushes the demo conversation in order', () => {
      const { assembler, feed } = setup();
      feed(
        script()
          .agentSays('Thanks for calling Acme, how can I help?')
          .callerSays("Hi, I'd like to check on my order.")
          .agentSays('Of course. What is the order number?')
          .callerSays('It is four two one seven.', { transcription: 'late' })
          .agentSays('Thanks. Order 4217 shipped yesterday and arrives on Monday.')
          .dtmf('1#')
          .error('invalid_event', 'recoverable')
          .agentSays('Is there anything else I can help you with today?', { interruptedAfterWords: 4 })
          .callerSays("No, that's all. Thanks, bye!")
          .agentSays('Goodbye, and have a great day!')
          .hangup(),
      );
      expect(rendered(assembler.finish())).toEqual([
        'Agent: Thanks for calling Acme, how can I help?',
        "Caller: Hi, I'd like to check on my order.",
        'Agent: Of course. What is the order number?',
        'Caller: It is four two one seven.',
        'Agent: Thanks. Order 4217 shipped yesterday and arrives on Monday.',
        'Agent: Is there anything else… [interrupted]',
        "Caller: No, that's all. Thanks, bye!",
        'Agent: Goodbye, and have a great day!',
      ]);
    });
  });

  describe('robustness', () => {
    it('never throws on odd shapes', () => {
      const { assembler, received, clock } = setup();
      const hostile = { type: 'conversation.item.added', get item(): unknown { throw new Error('boom'); } };
      const odd: unknown[] = [
        null, undefined, 42, 'response.done', [], [{ type: 'response.done' }], {}, { type: 42 }, { type: null },
        { type: 'conversation.item.added' }, { type: 'conversation.item.added', item: null }, { type: 'conversation.item.added', item: [] },
        { type: 'conversation.item.added', item: { id: 7 } }, { type: 'conversation.item.added', item: { id: '' } },
        { type: 'conversation.item.added', item: { id: 'x', content: 'nope' }, previous_item_id: 12 },
        { type: 'conversation.item.added', item: { id: 'y', type: 'message', role: 'user', content: [null, 3, { type: 'input_audio' }] }, previous_item_id: 'y' },
        { type: 'input_audio_buffer.committed', item_id: ['a'] }, { type: 'input_audio_buffer.speech_started', item_id: {} },
        { type: 'conversation.item.input_audio_transcription.delta', item_id: 'y', delta: 5 },
        { type: 'conversation.item.input_audio_transcription.completed', item_id: 'y', transcript: { text: 'hi' } },
        { type: 'conversation.item.input_audio_transcription.failed' },
        { type: 'response.output_audio_transcript.delta', item_id: null, delta: 'x' },
        { type: 'response.output_audio_transcript.delta', item_id: 'y', delta: 'caller item, agent delta' },
        { type: 'response.output_text.done', item_id: 'z', text: null },
        { type: 'response.output_item.done', item: 'str' }, { type: 'response.output_item.added', item: { id: 'q', type: 'message', role: 'assistant' }, response_id: 3 },
        { type: 'response.done', response: [] }, { type: 'response.done', response: { id: 1, output: 'x', status: {} } },
        { type: 'response.done', response: { id: 'r', output: [null, 1, [], { id: 'q', content: [{ transcript: 9 }] }] } },
        Object.create(null), hostile,
      ];
      expect(() => {
        for (const event of odd) assembler.handle(event as RealtimeServerEvent);
        clock.now += WAIT_MS;
        assembler.tick();
        void assembler.nextDeadline;
        assembler.finish();
      }).not.toThrow();
      expectConsecutive(received);
    });

    it('keeps emitting when onLine throws', () => {
      let calls = 0;
      const { assembler, feed } = setup({
        onLine: () => {
          calls++;
          throw new Error('listener failed');
        },
      });
      expect(() => feed(script().agentSays('One.').callerSays('Two.').agentSays('Three.'))).not.toThrow();
      expect(calls).toBe(3);
      expect(rendered(assembler.lines)).toEqual(['Agent: One.', 'Caller: Two.', 'Agent: Three.']);
    });

    it('survives 5,000 random events with its invariants intact', () => {
      for (const seed of [1, 2, 3, 42, 2024]) {
        const random = mulberry32(seed);
        const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
        // Ids from a window that slides forward, so items keep coming and events keep hitting recent ones.
        let newest = 0;
        const anId = () => `i${Math.max(0, newest - Math.floor(random() * 6))}`;
        const aResponse = () => `r${Math.max(0, (newest >> 1) - Math.floor(random() * 3))}`;
        const types = [
          'input_audio_buffer.speech_started', 'input_audio_buffer.speech_stopped', 'input_audio_buffer.committed',
          'conversation.item.added', 'conversation.item.done',
          'conversation.item.input_audio_transcription.delta', 'conversation.item.input_audio_transcription.completed',
          'conversation.item.input_audio_transcription.failed',
          'response.created', 'response.output_item.added', 'response.output_item.done', 'response.done',
          'response.output_audio_transcript.delta', 'response.output_audio_transcript.done',
          'response.output_text.delta', 'response.output_text.done', 'response.output_audio.delta', 'error', 'bogus',
        ];
        const scalar = (): unknown => pick<() => unknown>([
          () => anId(), () => anId(), () => aResponse(), () => null, () => undefined, () => random() * 100,
          () => pick(['', ' ', 'hello', ' world', 'completed', 'cancelled', 'incomplete', 'user', 'assistant', 'message']),
          () => [anId()], () => ({}), () => true,
        ])();
        const item = (): unknown => pick<() => unknown>([
          () => ({ id: anId(), type: 'message', role: pick(['user', 'assistant', 'system', undefined]), status: pick(['completed', 'incomplete', 'in_progress']), content: pick([[], [{ type: 'input_audio' }], [{ type: 'input_text', text: 'typed' }], [{ type: 'output_audio', transcript: scalar() }], 'x', null]) }),
          () => ({ id: anId(), type: pick(['function_call', 'function_call_output', undefined]) }),
          () => ({ id: scalar() }),
          scalar,
        ])();
        const event = (): RealtimeServerEvent => {
          if (random() < 0.15) newest++;
          const e: RealtimeServerEvent = { type: pick(types) };
          if (random() < 0.9) e.item_id = random() < 0.85 ? anId() : scalar();
          if (random() < 0.6) e.previous_item_id = random() < 0.7 ? anId() : pick([null, undefined, scalar()]);
          if (random() < 0.6) e.delta = random() < 0.8 ? pick(['hi', ' there', '', ' ']) : scalar();
          if (random() < 0.4) e.transcript = random() < 0.8 ? pick(['hello', '  ', 'ok then']) : scalar();
          if (random() < 0.3) e.text = scalar();
          if (random() < 0.6) e.response_id = random() < 0.8 ? aResponse() : scalar();
          if (random() < 0.5) e.item = item();
          if (random() < 0.3) {
            e.response = random() < 0.8
              ? { id: aResponse(), status: pick(['completed', 'cancelled', 'failed', 'incomplete']), output: random() < 0.7 ? [item(), item()] : scalar() }
              : scalar();
          }
          return e;
        };

        const { assembler, received, clock } = setup();
        const seen = new Set<string>();
        const violations: string[] = [];
        let checked = 0;
        const check = () => {
          // Emitted lines are never changed or re-emitted: onLine's record and `lines` grow together, seq by seq.
          if (assembler.lines.length !== received.length) violations.push(`lines ${assembler.lines.length} vs onLine ${received.length}`);
          for (; checked < received.length; checked++) {
            const line = received[checked]!;
            if (line.seq !== checked) violations.push(`seq ${line.seq} at ${checked}`);
            if (line.text === '' || line.text.trim() !== line.text) violations.push(`text ${JSON.stringify(line.text)}`);
            if (seen.has(line.itemId)) violations.push(`${line.itemId} emitted twice`);
            seen.add(line.itemId);
          }
        };
        expect(() => {
          for (let n = 0; n < 5000; n++) {
            assembler.handle(event());
            if (random() < 0.05) {
              clock.now += Math.floor(random() * WAIT_MS);
              assembler.tick();
            }
            check();
          }
          assembler.finish();
          check();
        }).not.toThrow();
        expect(violations).toEqual([]);
        expect(received.length).toBeGreaterThan(100); // the fuzz really drives emission, not just rejection
        expectConsecutive(received);
        expect(assembler.lines).toEqual(received);
        expect(new Set(received.map((line) => line.itemId)).size).toBe(received.length);
      }
    });
  });
});

describe('formatLine', () => {
  const line = (overrides: Partial<TranscriptLine>): TranscriptLine => ({
    callId: 'rtc_1', seq: 0, speaker: 'caller', text: 'hi', itemId: 'i', interrupted: false, placeholder: false, at: new Date(0), ...overrides,
  });

  it('prefixes the speaker', () => {
    expect(formatLine(line({}))).toBe('Caller: hi');
    expect(formatLine(line({ speaker: 'agent', text: 'hello' }))).toBe('Agent: hello');
  });

  it('marks an interrupted turn', () => {
    expect(formatLine(line({ speaker: 'agent', text: 'hello', interrupted: true }))).toBe('Agent: hello… [interrupted]');
    expect(formatLine(line({ speaker: 'agent', text: 'hello,', interrupted: true }))).toBe('Agent: hello… [interrupted]');
    expect(formatLine(line({ speaker: 'agent', text: 'hello…', interrupted: true }))).toBe('Agent: hello… [interrupted]');
  });

  it('shows placeholders', () => {
    expect(formatLine(line({ text: INAUDIBLE, placeholder: true }))).toBe('Caller: [inaudible]');
    expect(formatLine(line({ text: 'I want', placeholder: true }))).toBe('Caller: I want… [partial]');
  });

  it('formats stored records whose item id is null', () => {
    expect(formatLine({ speaker: 'agent', text: 'ok', interrupted: false, placeholder: false })).toBe('Agent: ok');
  });
});

/**
 * A second script numbers its items from 1 again: its agent item `item_agent_1` becomes `reply`, placed after the
 * first script's caller turn `item_caller_2`.
 */
function asReplyToCallerTwo(event: RealtimeServerEvent): RealtimeServerEvent {
  const from = 'item_agent_1';
  const to = 'reply';
  const copy: RealtimeServerEvent = { ...event };
  if (copy.type === 'conversation.item.added') copy.previous_item_id = 'item_caller_2';
  if (copy.item_id === from) copy.item_id = to;
  const item = copy.item as { id?: unknown } | undefined;
  if (item && item.id === from) copy.item = { ...item, id: to };
  const response = copy.response as { output?: Array<{ id?: unknown }> } | undefined;
  if (response && Array.isArray(response.output)) {
    copy.response = { ...response, output: response.output.map((entry) => (entry.id === from ? { ...entry, id: to } : entry)) };
  }
  return copy;
}

/** Small seeded PRNG (mulberry32), so the fuzz test is reproducible. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
