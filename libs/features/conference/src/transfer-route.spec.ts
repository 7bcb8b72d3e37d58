import { afterEach, describe, expect, it } from '@jest/globals';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { ConferenceLinks } from './conference-links.js';
import { ConferenceTransfer } from './conference-transfer.js';
import { MemoryConferenceLinks } from './memory-conference-links.js';
import { EventBus } from '#events';
import { HumanTransferRoutes, PerCallHumanTransfer, SipReferTransfer, fakeToolContext, type CallLink } from '#tools';
import { TwilioVoice, type TwilioConfig } from '#twilio';

const ACCOUNT = `AC${'0123456789abcdef'.repeat(2)}`;
const CONFERENCE = 'CA00000000000000000000000000000001';

function twilio(configured: boolean): TwilioConfig {
  return {
    account: configured ? { sid: ACCOUNT, authToken: 'a1'.repeat(16), publicBaseUrl: 'https://bridge.example.com', openaiProjectId: 'proj_x' } : undefined,
    // Nothing listens there: routing a call never talks to Twilio.
    apiBaseUrl: 'http://127.0.0.1:9',
    requestTimeoutMs: 1000,
    humanLabel: 'human agent',
    ringTimeoutSeconds: 20,
  };
}

const strategies: ConferenceTransfer[] = [];

function chooser(options: { twilio?: boolean; humanAgentNumber?: string; links?: ConferenceLinks } = {}) {
  const settings = twilio(options.twilio ?? true);
  const transfer = {
    humanAgentNumber: options.humanAgentNumber,
    targetUri: options.humanAgentNumber ? `tel:${options.humanAgentNumber}` : undefined,
    timeoutMs: 1000,
  };
  const links = options.links ?? new MemoryConferenceLinks();
  const conference = new ConferenceTransfer(
    transfer,
    settings,
    new TwilioVoice(settings),
    links,
    { expectEnd: () => true } as unknown as CallLink,
    new EventBus(new EventEmitter2()),
  );
  strategies.push(conference);
  return { chooser: new PerCallHumanTransfer(new SipReferTransfer(transfer), HumanTransferRoutes.of([conference])), links };
}

async function withConference(links: ConferenceLinks, openaiCallId?: string) {
  await links.create({
    conferenceName: CONFERENCE,
    callerCallSid: CONFERENCE,
    callerNumber: '+14155550123',
    dialledNumber: '+18005551212',
    callToken: 'tok',
    createdAt: new Date(),
  });
  if (openaiCallId) await links.linkOpenAICall(CONFERENCE, openaiCallId);
}

const inConference = (callId = 'rtc_conf', transfer?: { humanAgentNumber?: string; sipUri?: string }) =>
  fakeToolContext({ callId, sip: { conferenceName: CONFERENCE }, ...(transfer ? { transfer } : {}) });

afterEach(() => {
  for (const strategy of strategies.splice(0)) strategy.onModuleDestroy();
});

describe('transfer_to_human strategy choice', () => {
  it('transfers into the conference when the call came through one this service set up, and Twilio is configured', async () => {
    const { chooser: choose, links } = chooser({ humanAgentNumber: '+14155550100' });
    await withConference(links);
    const route = await choose.route(inConference());
    expect(route).toMatchObject({ kind: 'conference', link: { conferenceName: CONFERENCE, openaiCallId: 'rtc_conf' } });
  });

  it('uses SIP REFER without Twilio, even for a call that names a conference', async () => {
    const { chooser: choose, links } = chooser({ twilio: false, humanAgentNumber: '+14155550100' });
    await withConference(links);
    expect(await choose.route(inConference())).toEqual({ kind: 'refer' });
  });

  it('uses SIP REFER for calls that did not come through a conference (a SIP trunk)', async () => {
    const { chooser: choose, links } = chooser({ humanAgentNumber: '+14155550100' });
    await withConference(links);
    expect(await choose.route(fakeToolContext({ callId: 'rtc_trunk' }))).toEqual({ kind: 'refer' });
  });

  it('uses SIP REFER when the named conference is unknown, or belongs to another call', async () => {
    const { chooser: choose, links } = chooser({ humanAgentNumber: '+14155550100' });
    expect(await choose.route(inConference())).toEqual({ kind: 'refer' });
    await withConference(links, 'rtc_other');
    expect(await choose.route(inConference())).toEqual({ kind: 'refer' });
  });

  it("dials the profile's number when the environment has none", async () => {
    const { chooser: choose, links } = chooser({});
    await withConference(links);
    expect(await choose.route(inConference())).toEqual({ kind: 'refer' });
    expect(await choose.route(inConference('rtc_conf', { humanAgentNumber: '+14155550111' }))).toMatchObject({ kind: 'conference' });
  });

  it("REFERs to the profile's SIP URI, never dialling the deployment's number, when the profile has no number of its own", async () => {
    const { chooser: choose, links } = chooser({ humanAgentNumber: '+14155550100' });
    await withConference(links);
    expect(await choose.route(inConference('rtc_conf', { sipUri: 'sip:desk@pbx.example.com' }))).toEqual({ kind: 'refer' });
    // The same call with the profile's own number goes into the conference.
    expect(await choose.route(inConference('rtc_conf', { sipUri: 'sip:desk@pbx.example.com', humanAgentNumber: '+14155550111' }))).toMatchObject({
      kind: 'conference',
    });
  });

  it('tells the model the transfer failed, rather than REFER, when the conference cannot be read', async () => {
    const broken = new MemoryConferenceLinks();
    broken.linkOpenAICall = () => Promise.reject(new Error('database is down'));
    const { chooser: choose } = chooser({ humanAgentNumber: '+14155550100', links: broken });
    await expect(choose.route(inConference())).rejects.toMatchObject({ code: 'transfer_failed' });
  });

  it('offers the tool when either strategy is configured, with the longer of their time budgets', () => {
    expect(chooser({}).chooser.configured).toBe(false);
    expect(chooser({ twilio: false, humanAgentNumber: '+14155550100' }).chooser.configured).toBe(true);
    const both = chooser({ humanAgentNumber: '+14155550100' }).chooser;
    expect(both.configured).toBe(true);
    expect(both.maxDurationMs).toBeGreaterThanOrEqual(5000 + 10_000 + 1000);
  });
});
