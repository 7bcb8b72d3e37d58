import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { ConferenceTransfer } from './conference-transfer.js';
import { MemoryConferenceLinks } from './memory-conference-links.js';
import { FakeTwilio } from '#emulator';
import { EventBus, type CallEndReason, type CallTransferEvent } from '#events';
import { ToolError, fakeToolContext, type CallLink } from '#tools';
import { TwilioVoice, type TwilioConfig } from '#twilio';

const ACCOUNT = `AC${'0123456789abcdef'.repeat(2)}`;
const TOKEN = 'd4'.repeat(16);
const CONFERENCE = 'CA00000000000000000000000000000002';

describe('ConferenceTransfer (the real twilio SDK against FakeTwilio)', () => {
  let fake: FakeTwilio;
  let links: MemoryConferenceLinks;
  let strategy: ConferenceTransfer;
  let events: CallTransferEvent[];
  let expected: Array<[string, CallEndReason | undefined]>;

  beforeAll(async () => {
    fake = await new FakeTwilio({ accountSid: ACCOUNT, authToken: TOKEN }).start();
  });

  afterAll(() => fake.stop());

  beforeEach(async () => {
    fake.requests.length = 0;
    const settings: TwilioConfig = {
      account: { sid: ACCOUNT, authToken: TOKEN, publicBaseUrl: 'https://bridge.example.com', openaiProjectId: 'proj_x' },
      apiBaseUrl: fake.baseUrl,
      requestTimeoutMs: 2000,
      humanLabel: 'human agent',
      ringTimeoutSeconds: 20,
    };
    links = new MemoryConferenceLinks();
    events = [];
    expected = [];
    const bus = new EventBus(new EventEmitter2());
    bus.on('call.transfer', (event) => events.push(event));
    const link = { expectEnd: (callId: string, reason: CallEndReason | undefined) => (expected.push([callId, reason]), true) };
    strategy = new ConferenceTransfer(
      { humanAgentNumber: '+14155550100', targetUri: 'tel:+14155550100', timeoutMs: 1000 },
      settings,
      new TwilioVoice(settings),
      links,
      link as unknown as CallLink,
      bus,
    );
    await links.create({
      conferenceName: CONFERENCE,
      callerCallSid: CONFERENCE,
      callerNumber: '+14155550123',
      dialledNumber: '+18005551212',
      callToken: 'tok_caller',
      createdAt: new Date(),
    });
    await links.update(CONFERENCE, { conferenceSid: 'CF_known' });
  });

  afterEach(() => strategy.onModuleDestroy());

  const context = () => fakeToolContext({ callId: 'rtc_1', sip: { conferenceName: CONFERENCE } });

  it('dials the human into the conference with the CallToken and the caller as caller ID, and answers at once', async () => {
    fake.nextParticipant({});
    const call = context();
    const output = await strategy.transfer(call, 'billing question');
    expect(output).toMatchObject({ status: 'connecting', say: "I'm connecting you now, please stay on the line." });
    const [request] = fake.requestsFor('participants.create');
    const attempt = (await links.get(CONFERENCE))!.humanAttempt!;
    expect(request.path).toBe(`/2010-04-01/Accounts/${ACCOUNT}/Conferences/CF_known/Participants.json`);
    expect(request.params).toEqual({
      From: '+14155550123',
      To: '+14155550100',
      Label: 'human agent',
      CallToken: 'tok_caller',
      EarlyMedia: 'false',
      Timeout: '20',
      EndConferenceOnExit: 'true',
      StatusCallback: `https://bridge.example.com/twilio/conference-events?conference=${CONFERENCE}&attempt=${attempt}`,
      StatusCallbackEvent: 'completed',
      StatusCallbackMethod: 'POST',
    });
    expect(await links.get(CONFERENCE)).toMatchObject({ humanStatus: 'dialing', humanCallSid: fake.participants.at(-1)!.callSid });
    expect(events).toEqual([
      expect.objectContaining({ callId: 'rtc_1', attempt, status: 'dialing', reason: 'billing question', callerNumber: '+14155550123', humanLabel: 'human agent' }),
    ]);
    expect(strategy.ringingCount).toBe(1);
  });

  it('presents the dialled number when there is no CallToken (the caller cannot be shown without one)', async () => {
    await links.create({ conferenceName: 'CA_no_token', callerCallSid: 'CA_no_token', callerNumber: '+14155550123', dialledNumber: '+18005551212', callToken: null, createdAt: new Date() });
    await strategy.transfer(fakeToolContext({ callId: 'rtc_2', sip: { conferenceName: 'CA_no_token' } }), undefined);
    const [request] = fake.requestsFor('participants.create');
    expect(request.params.From).toBe('+18005551212');
    expect(request.params.CallToken).toBeUndefined();
  });

  it('rings one human at a time: asking again while it rings dials nobody new', async () => {
    await strategy.transfer(context(), undefined);
    expect(await strategy.transfer(context(), undefined)).toMatchObject({ status: 'connecting' });
    expect(fake.requestsFor('participants.create')).toHaveLength(1);
  });

  it('tells the model when Twilio fails (500, not retried) and records the attempt as failed', async () => {
    fake.respondNext('participants.create', { status: 500, body: { code: 20500, message: 'Internal Server Error', status: 500 } });
    const failure = await strategy.transfer(context(), undefined).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ToolError);
    expect(failure).toMatchObject({ code: 'transfer_failed', message: expect.stringMatching(/could not be started/) });
    expect(fake.requestsFor('participants.create')).toHaveLength(1);
    expect((await links.get(CONFERENCE))!.humanStatus).toBe('failed');
    expect(events.map((e) => e.status)).toEqual(['dialing', 'failed']);
    expect(events[1].detail).toBe('Twilio refused the call (HTTP 500)');
    expect(strategy.ringingCount).toBe(0);
  });

  it('says the phone system is busy when Twilio keeps answering 429', async () => {
    const limited = { status: 429, body: { code: 20429, message: 'Too Many Requests', status: 429 } };
    fake.respondNext('participants.create', limited, limited, limited, limited);
    await expect(strategy.transfer(context(), undefined)).rejects.toMatchObject({ code: 'transfer_failed', message: expect.stringMatching(/busy/) });
    expect(fake.requestsFor('participants.create')).toHaveLength(4);
  });

  it('tells the model when the human does not answer, once, and lets it carry on', async () => {
    const call = context();
    await strategy.transfer(call, undefined);
    const attempt = (await links.get(CONFERENCE))!.humanAttempt!;
    strategy.onTransfer({ callId: 'rtc_1', attempt: 'att_other', status: 'no_answer', at: new Date() });
    expect(call.call.informed).toEqual([]);
    strategy.onTransfer({ callId: 'rtc_1', attempt, status: 'no_answer', at: new Date() });
    strategy.onTransfer({ callId: 'rtc_1', attempt, status: 'no_answer', at: new Date() });
    expect(call.call.informed).toEqual([expect.stringMatching(/nobody answered.*still on the line with you/)]);
    expect(strategy.ringingCount).toBe(0);
    expect(expected).toEqual([]);
  });

  it('expects the call to end transferred when the human joins', async () => {
    const call = context();
    await strategy.transfer(call, undefined);
    const attempt = (await links.get(CONFERENCE))!.humanAttempt!;
    strategy.onTransfer({ callId: 'rtc_1', attempt, status: 'joined', at: new Date() });
    expect(expected).toEqual([['rtc_1', 'transferred']]);
    expect(call.call.informed).toEqual([]);
  });

  describe('while it rings, it re-reads the link (the conference events may reach another replica)', () => {
    // Only the clock is fake: the request to FakeTwilio and the link's promises run as usual.
    beforeEach(() => {
      jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    });
    afterEach(() => {
      jest.useRealTimers();
    });

    async function ringing() {
      const call = context();
      await strategy.transfer(call, undefined);
      const attempt = (await links.get(CONFERENCE))!.humanAttempt!;
      return { call, attempt };
    }

    it('notices a busy line recorded by another replica at its next read, and tells the model once', async () => {
      const { call, attempt } = await ringing();
      await jest.advanceTimersByTimeAsync(1000);
      expect(call.call.informed).toEqual([]); // still ringing: nothing to say

      await links.updateHumanAttempt(CONFERENCE, attempt, { status: 'busy' }, ['dialing']);
      await jest.advanceTimersByTimeAsync(1000);
      expect(call.call.informed).toEqual([expect.stringMatching(/the line was busy/)]);
      expect(strategy.ringingCount).toBe(0);
      await jest.advanceTimersByTimeAsync(5000);
      expect(call.call.informed).toHaveLength(1);
      expect(expected).toEqual([]);
    });

    it('notices a join recorded by another replica, and expects the call to end transferred', async () => {
      const { call, attempt } = await ringing();
      await links.updateHumanAttempt(CONFERENCE, attempt, { status: 'joined' }, ['dialing']);
      await jest.advanceTimersByTimeAsync(1000);
      expect(expected).toEqual([['rtc_1', 'transferred']]);
      expect(call.call.informed).toEqual([]);
      expect(strategy.ringingCount).toBe(0);
    });

    it('counts the transfer as failed when Twilio reports nothing well after the ring timeout', async () => {
      const { call, attempt } = await ringing();
      await jest.advanceTimersByTimeAsync(20_000); // the ring timeout: Twilio may still report
      expect(call.call.informed).toEqual([]);
      await jest.advanceTimersByTimeAsync(16_000); // and the grace after it
      expect(call.call.informed).toEqual([expect.stringMatching(/did not go through/)]);
      expect(await links.get(CONFERENCE)).toMatchObject({ humanAttempt: attempt, humanStatus: 'failed' });
      expect(events.map((e) => e.status)).toEqual(['dialing', 'failed']);
      expect(strategy.ringingCount).toBe(0);
    });
  });

  it('stops waiting when the call ends', async () => {
    const call = context();
    await strategy.transfer(call, undefined);
    strategy.onEnded({ callId: 'rtc_1', reason: 'remote_closed', acceptedAt: new Date(), endedAt: new Date() });
    expect(strategy.ringingCount).toBe(0);
  });

  it('refuses a call whose conference is unknown or tied to another call', async () => {
    await links.linkOpenAICall(CONFERENCE, 'rtc_someone_else');
    await expect(strategy.transfer(context(), undefined)).rejects.toMatchObject({ code: 'transfer_unavailable' });
    await expect(strategy.transfer(fakeToolContext({ sip: { conferenceName: 'CA_unknown' } }), undefined)).rejects.toMatchObject({
      code: 'transfer_unavailable',
    });
    expect(fake.requestsFor('participants.create')).toHaveLength(0);
  });
});
