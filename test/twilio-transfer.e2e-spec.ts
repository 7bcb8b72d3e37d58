import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { sql, type Kysely } from 'kysely';
import { FakeDiscord, FakeTwilio, TWILIO_REPLY_SHAPES, script, type EmulatedCall, type FakeTwilioRequest, type PlacedCall } from '#emulator';
import { ConferenceLinks } from '#conference';
import { CallRecordsRepository, KYSELY } from '#storage';
import { CallRecordWriter } from '#transcripts';
import { startHarness, type Harness } from './support/harness.js';
import { SseClient } from './support/sse.js';
import { waitUntil } from './support/process.js';
import { rememberSensitive } from './support/log-capture.js';

const ACCOUNT = `AC${randomBytes(16).toString('hex')}`;
const TOKEN = randomBytes(16).toString('hex');
const PUBLIC = 'https://bridge.example.com';
const PROJECT = 'proj_e2etwilio';
const CALLER = '+14155550123';
const DIALLED = '+18005551212';
const HUMAN = '+14155550100';
const ADMIN = `admin-${randomBytes(16).toString('hex')}`;

const conferenceEventsUrl = `${PUBLIC}/twilio/conference-events`;

/** What the bridge told the model outside function outputs (system messages). */
function systemMessages(call: EmulatedCall): string[] {
  return call.clientEvents
    .filter((e) => e.type === 'conversation.item.create' && (e.item as { role?: string }).role === 'system')
    .map((e) => (e.item as { content: Array<{ text: string }> }).content[0].text);
}

function outputOf(call: EmulatedCall, toolCallId: string): Record<string, any> {
  const event = call.clientEvents.find(
    (e) => e.type === 'conversation.item.create' && (e.item as { call_id?: string }).call_id === toolCallId,
  );
  if (!event) throw new Error(`no function_call_output for ${toolCallId}`);
  return JSON.parse((event.item as { output: string }).output);
}

/** The Discord lines of one call, in order (messages carry a `📞 call …tag` header when they switch calls). */
function discordLinesOf(discord: FakeDiscord, webhookId: string, callId: string): string[] {
  const header = `**📞 call …${callId.slice(-6)}**`;
  let current: string | undefined;
  const lines: string[] = [];
  for (const message of discord.messagesFor(webhookId)) {
    for (const line of message.content.split('\n')) {
      if (line.startsWith('**📞 call …')) current = line;
      else if (current === header) lines.push(line);
    }
  }
  return lines;
}


describe('warm transfer through Twilio Programmable Voice (real twilio SDK, FakeTwilio, OpenAI emulator)', () => {
  let h: Harness;
  let fake: FakeTwilio;
  let discord: FakeDiscord;
  let discordId: string;
  let links: ConferenceLinks;

  beforeAll(async () => {
    fake = await new FakeTwilio({ accountSid: ACCOUNT, authToken: TOKEN }).start();
    discord = await new FakeDiscord().start();
    const discordUrl = discord.webhookUrl();
    discordId = FakeDiscord.webhookIdOf(discordUrl);
    h = await startHarness({
      TWILIO_ACCOUNT_SID: ACCOUNT,
      TWILIO_AUTH_TOKEN: TOKEN,
      TWILIO_API_BASE_URL: fake.baseUrl,
      TWILIO_REQUEST_TIMEOUT_MS: '3000',
      TWILIO_RING_TIMEOUT_SECONDS: '20',
      PUBLIC_BASE_URL: PUBLIC,
      OPENAI_PROJECT_ID: PROJECT,
      HUMAN_AGENT_NUMBER: HUMAN,
      DISCORD_WEBHOOK_URL: discordUrl,
      ADMIN_API_TOKEN: ADMIN,
    });
    fake.pointAt({ publicBaseUrl: PUBLIC, localBaseUrl: h.baseUrl }).connectOpenAI(h.emulator, h.webhookUrl);
    links = h.app.get(ConferenceLinks);
  });

  afterAll(async () => {
    await h?.close();
    await fake?.stop();
    await discord?.stop();
    // Twilio's CallTokens are credentials; the human's number is a phone number: neither may reach a log line.
    rememberSensitive('secret', fake?.callbacks.map((c) => c.params.CallToken) ?? []);
    rememberSensitive('pii', [HUMAN, CALLER, DIALLED]);
  });

  const agentRequest = (placed: PlacedCall): FakeTwilioRequest =>
    fake.requestsFor('participants.create', { Label: 'virtual agent' }).find((r) => r.path.includes(`/Conferences/${placed.callSid}/`))!;
  const agentLeg = (placed: PlacedCall) => fake.participants.find((p) => p.conferenceName === placed.callSid && p.label === 'virtual agent')!;
  const humanRequests = (placed: PlacedCall) =>
    fake.requestsFor('participants.create', { Label: 'human agent' }).filter((r) => r.path.includes(`/Conferences/${placed.conference!.sid}/`));
  const updatesOf = (callSid: string) => fake.requestsFor('calls.update').filter((r) => r.path.endsWith(`/Calls/${callSid}.json`));

  describe('the voice webhook', () => {
    it('holds the caller in a conference named after the CallSid and dials the agent with the exact parameters', async () => {
      const placed = await fake.placeCall({ from: CALLER, to: DIALLED, openaiScript: script().pause(100).hangup() });
      expect(placed.status).toBe(200);
      expect(placed.contentType).toMatch(/^text\/xml/);
      expect(placed.twiml).toBe(
        '<?xml version="1.0" encoding="UTF-8"?><Response><Dial>' +
          '<Conference participantLabel="customer" startConferenceOnEnter="true" endConferenceOnExit="true" beep="false" ' +
          `statusCallback="${conferenceEventsUrl}" statusCallbackEvent="start end join leave" statusCallbackMethod="POST">` +
          `${placed.callSid}</Conference></Dial></Response>`,
      );

      const agent = agentRequest(placed);
      expect(agent.path).toBe(`/2010-04-01/Accounts/${ACCOUNT}/Conferences/${placed.callSid}/Participants.json`);
      expect(agent.auth).toEqual({ username: ACCOUNT, password: TOKEN });
      expect(agent.params).toEqual({
        From: CALLER,
        To: `sip:${PROJECT}@sip.api.openai.com;transport=tls?X-conferenceName=${placed.callSid}`,
        Label: 'virtual agent',
        CallToken: placed.callToken,
        EarlyMedia: 'false',
        Beep: 'false',
        StatusCallback: `${conferenceEventsUrl}?conference=${placed.callSid}&leg=agent`,
        StatusCallbackEvent: 'completed',
        StatusCallbackMethod: 'POST',
        // The conference's events, as the caller's TwiML asks for them: reported even if the caller never joins.
        ConferenceStatusCallback: conferenceEventsUrl,
        ConferenceStatusCallbackEvent: ['start', 'end', 'join', 'leave'],
        ConferenceStatusCallbackMethod: 'POST',
      });
      expect(await links.get(placed.callSid)).toMatchObject({
        callerCallSid: placed.callSid,
        callerNumber: CALLER,
        dialledNumber: DIALLED,
        callToken: placed.callToken,
        agentCallSid: agentLeg(placed).callSid,
        conferenceSid: placed.conference!.sid,
      });
    });

    it("ties OpenAI's webhook to the conference by its X-conferenceName", async () => {
      const placed = await fake.placeCall({ from: CALLER, openaiScript: script().pause(100).hangup() });
      const openai = await fake.openaiCall(placed.callSid);
      expect(openai.sipHeaders).toEqual(expect.arrayContaining([{ name: 'X-conferenceName', value: placed.callSid }]));
      const accepted = await h.bus.waitFor('call.accepted', (e) => e.callId === openai.callId);
      expect(accepted.context).toMatchObject({ conferenceName: placed.callSid, callerNumber: CALLER, twilioCallSid: agentLeg(placed).callSid });
      expect(await links.get(placed.callSid)).toMatchObject({ openaiCallId: openai.callId });
    });

    it('answers a repeated voice webhook with the same TwiML and dials nobody twice', async () => {
      const placed = await fake.placeCall({ openaiScript: script().pause(100).hangup() });
      const again = await fake.post(`${PUBLIC}/twilio/voice`, {
        AccountSid: ACCOUNT,
        CallSid: placed.callSid,
        From: CALLER,
        To: DIALLED,
        CallToken: placed.callToken!,
      });
      expect(again).toMatchObject({ status: 200, body: placed.twiml });
      expect(fake.requestsFor('participants.create').filter((r) => r.path.includes(placed.callSid))).toHaveLength(1);
    });

    it('still answers the call when the link cannot be stored (the agent takes it, without warm transfer)', async () => {
      const db = h.app.get<Kysely<unknown>>(KYSELY);
      await sql`alter table conference_links rename to conference_links_away`.execute(db);
      let placed: PlacedCall;
      try {
        placed = await fake.placeCall({ openaiScript: script().pause(100).hangup() });
      } finally {
        await sql`alter table conference_links_away rename to conference_links`.execute(db);
      }
      expect(placed.status).toBe(200);
      expect(placed.conference).toBeDefined();
      const openai = await fake.openaiCall(placed.callSid);
      await h.bus.waitFor('call.accepted', (e) => e.callId === openai.callId);
      expect(await links.get(placed.callSid)).toBeUndefined();
    });

    it('apologises and hangs up when the agent cannot be added (a 500 is not retried)', async () => {
      fake.respondNext('participants.create', { status: 500, body: { code: 20500, message: 'Internal Server Error', status: 500 } });
      const placed = await fake.placeCall({});
      expect(placed.status).toBe(200);
      expect(placed.twiml).toContain('<Say>');
      expect(placed.twiml).toContain('<Hangup/>');
      expect(placed.conference).toBeUndefined();
      expect(fake.requestsFor('participants.create').filter((r) => r.path.includes(placed.callSid))).toHaveLength(1);
      expect(await links.get(placed.callSid)).toMatchObject({ agentStatus: 'failed' });
    });
  });

  describe('an agent that could not be added is never left talking in an empty conference', () => {
    const agentUri = `sip:${PROJECT}@sip.api.openai.com;transport=tls`;
    const failTheAgent = () =>
      fake.respondNext('participants.create', { status: 500, body: { code: 20500, message: 'Internal Server Error', status: 500 } });

    it("refuses OpenAI's call for the agent's leg when adding the agent had failed (Twilio may have created it anyway)", async () => {
      failTheAgent();
      const placed = await fake.placeCall({ from: CALLER, to: DIALLED });
      expect(placed.twiml).toContain('<Hangup/>');
      // Twilio answered 500 but placed the leg: its INVITE reaches OpenAI, whose webhook names the conference.
      const { call, delivery } = await h.emulator.placeCall(h.webhookUrl, {
        from: CALLER,
        toUri: agentUri,
        sipHeaders: [{ name: 'X-conferenceName', value: placed.callSid }],
      });
      expect(delivery.status).toBe(200);
      expect(call.state).toBe('rejected');
      expect(h.emulator.requestsFor(call.callId, 'reject').map((r) => r.body)).toEqual([{ status_code: 480 }]);
      expect(h.emulator.requestsFor(call.callId, 'accept')).toHaveLength(0);
      expect(await h.bus.waitFor('call.rejected', (e) => e.callId === call.callId)).toMatchObject({ reason: 'agent_leg_failed', statusCode: 480 });
      await h.app.get(CallRecordWriter).flush();
      expect(await h.app.get(CallRecordsRepository).getCall(call.callId)).toMatchObject({
        status: 'rejected',
        endReason: 'agent_leg_failed',
        dialledNumber: DIALLED,
      });
    });

    it("ends the agent's leg when it joins the conference after adding it had failed", async () => {
      failTheAgent();
      const placed = await fake.placeCall({});
      const agentCallSid = `CA${randomBytes(16).toString('hex')}`;
      const join = {
        AccountSid: ACCOUNT,
        ConferenceSid: `CF${randomBytes(16).toString('hex')}`,
        FriendlyName: placed.callSid,
        StatusCallbackEvent: 'participant-join',
        CallSid: agentCallSid,
        ParticipantLabel: 'virtual agent',
      };
      expect((await fake.post(conferenceEventsUrl, join)).status).toBe(204);
      expect(updatesOf(agentCallSid).map((r) => r.params)).toEqual([{ Status: 'completed' }]);
      expect(await links.get(placed.callSid)).toMatchObject({ agentStatus: 'failed' });
    });

    it('hangs up an agent whose call was answered while adding it timed out, and tells the caller', async () => {
      // Twilio places the leg at once but answers after the bridge gave up (TWILIO_REQUEST_TIMEOUT_MS is 3 s here).
      fake.respondNext('participants.create', { status: 201, delayMs: 4000 });
      const callSid = `CA${randomBytes(16).toString('hex')}`;
      const placing = fake.placeCall({ callSid });
      const openai = await fake.openaiCall(callSid);
      await h.bus.waitFor('call.accepted', (e) => e.callId === openai.callId);
      const placed = await placing;
      expect(placed.twiml).toContain('<Hangup/>');
      await h.bus.waitFor('call.ended', (e) => e.callId === openai.callId);
      expect((await openai.ended).by).toBe('hangup');
      expect(h.emulator.requestsFor(openai.callId, 'hangup')).toHaveLength(1);
      expect(await links.get(placed.callSid)).toMatchObject({ agentStatus: 'failed', openaiCallId: openai.callId });
    });
  });

  describe('signatures', () => {
    const voiceParams = (callSid: string) => ({ AccountSid: ACCOUNT, CallSid: callSid, From: CALLER, To: DIALLED, CallToken: 'tok' });

    it('answers 403 to a voice webhook with a missing, wrong or misdirected signature, and creates nothing', async () => {
      const callSid = `CA${randomBytes(16).toString('hex')}`;
      const params = voiceParams(callSid);
      const forged = new FakeTwilio({ accountSid: ACCOUNT, authToken: randomBytes(16).toString('hex') });
      const attempts: Array<string | null> = [
        null,
        'not-a-signature',
        forged.sign(`${PUBLIC}/twilio/voice`, params), // another account's token
        fake.sign(`${h.baseUrl}/twilio/voice`, params), // signed for the private address, not PUBLIC_BASE_URL
        fake.sign(`${PUBLIC}/twilio/voice`, { ...params, From: '+14155550999' }), // another body
      ];
      for (const signature of attempts) {
        const answer = await fake.post(`${PUBLIC}/twilio/voice`, params, { signature });
        expect(answer.status).toBe(403);
        expect(JSON.parse(answer.body)).toEqual({ error: 'invalid_signature' });
      }
      expect(fake.requests.filter((r) => r.path.includes(callSid))).toHaveLength(0);
      expect(await links.get(callSid)).toBeUndefined();
    });

    it('answers 400 to a signed voice webhook without a valid CallSid', async () => {
      const answer = await fake.post(`${PUBLIC}/twilio/voice`, { ...voiceParams('CA123'), CallSid: 'not-a-sid' });
      expect(answer.status).toBe(400);
    });

    it('answers 403 to a forged human join and ends no call; the same event signed completes the transfer', async () => {
      fake.nextParticipant({ label: 'human agent' }, { afterMs: 50, event: 'ringing' }); // rings, nobody answers
      const placed = await fake.placeCall({ openaiScript: script().toolCall('transfer_to_human', {}, { callId: 'call_forged' }) });
      const openai = await fake.openaiCall(placed.callSid);
      await openai.waitForClientEvent('conversation.item.create');
      const humanLeg = fake.participants.find((p) => p.conferenceName === placed.callSid && p.label === 'human agent')!;
      const join = {
        AccountSid: ACCOUNT,
        ConferenceSid: placed.conference!.sid,
        FriendlyName: placed.callSid,
        StatusCallbackEvent: 'participant-join',
        CallSid: humanLeg.callSid,
        ParticipantLabel: 'human agent',
      };
      expect((await fake.post(conferenceEventsUrl, join, { signature: null })).status).toBe(403);
      expect((await fake.post(conferenceEventsUrl, join, { signature: 'bad' })).status).toBe(403);
      expect(updatesOf(agentLeg(placed).callSid)).toHaveLength(0);
      expect((await links.get(placed.callSid))!.humanStatus).toBe('dialing');

      expect((await fake.post(conferenceEventsUrl, join)).status).toBe(204);
      expect(updatesOf(agentLeg(placed).callSid)).toHaveLength(1);
      expect((await h.bus.waitFor('call.ended', (e) => e.callId === openai.callId)).reason).toBe('transferred');
    });

    it('answers 204 to signed conference events, even about conferences it does not know', async () => {
      const answer = await fake.post(conferenceEventsUrl, { StatusCallbackEvent: 'conference-start', FriendlyName: 'not-ours' });
      expect(answer.status).toBe(204);
    });
  });

  describe('transfer_to_human into the conference', () => {
    it('briefs Discord, dials the human with the CallToken and the caller as caller ID, and completes the agent leg on their join', async () => {
      fake.nextParticipant({ label: 'human agent' }, { afterMs: 200, event: 'ringing' }, { afterMs: 900, event: 'join' });
      const conversation = script()
        .callerSays('I have a question about my last invoice.')
        .agentSays('I can put you through to our billing team.')
        .callerSays('Yes please, a person.')
        .toolCall('transfer_to_human', { reason: 'billing question' }, { callId: 'call_xfer' })
        .expect('response.create')
        .agentSays("I'm connecting you now, please stay on the line.");
      const placed = await fake.placeCall({ from: CALLER, to: DIALLED, openaiScript: conversation });
      const openai = await fake.openaiCall(placed.callSid);

      const ended = await h.bus.waitFor('call.ended', (e) => e.callId === openai.callId, 10_000);
      expect(ended.reason).toBe('transferred');
      expect(openai.scriptError).toBeUndefined();

      // The tool answered at once, with what the agent says.
      expect(outputOf(openai, 'call_xfer')).toMatchObject({ status: 'connecting', say: "I'm connecting you now, please stay on the line." });

      // The human: dialled into the conference (by SID) with the caller's CallToken, number and the human label.
      const [human] = humanRequests(placed);
      const attempt = (await links.get(placed.callSid))!.humanAttempt!;
      expect(human.path).toBe(`/2010-04-01/Accounts/${ACCOUNT}/Conferences/${placed.conference!.sid}/Participants.json`);
      expect(human.params).toEqual({
        From: CALLER,
        To: HUMAN,
        Label: 'human agent',
        CallToken: placed.callToken,
        EarlyMedia: 'false',
        Timeout: '20',
        EndConferenceOnExit: 'true',
        StatusCallback: `${conferenceEventsUrl}?conference=${placed.callSid}&attempt=${attempt}`,
        StatusCallbackEvent: 'completed',
        StatusCallbackMethod: 'POST',
      });

      // The agent's leg was completed while the bridge handled the human's join, and its sideband closed.
      const humanLeg = fake.participants.find((p) => p.conferenceName === placed.callSid && p.label === 'human agent')!;
      const join = fake.callbacks.find((c) => c.params.StatusCallbackEvent === 'participant-join' && c.params.CallSid === humanLeg.callSid)!;
      expect(join.status).toBe(204);
      const [completion] = updatesOf(agentLeg(placed).callSid);
      expect(completion.params).toEqual({ Status: 'completed' });
      expect(completion.at).toBeGreaterThan(join.sentAt);
      expect(completion.at).toBeLessThan(join.at);
      expect((await openai.ended).by).toBe('caller');
      expect(h.emulator.requestsFor(openai.callId, 'hangup')).toHaveLength(0);
      // The caller stays: their call is not touched, the human is in the conference with them.
      expect(updatesOf(placed.callSid)).toHaveLength(0);
      expect(humanLeg.status).toBe('in-progress');
      expect(await links.get(placed.callSid)).toMatchObject({ humanStatus: 'joined', humanCallSid: humanLeg.callSid, agentStatus: 'left' });

      // The briefing reached Discord before the human joined; then the join, then the summary.
      const lines = await waitUntil(() => {
        const all = discordLinesOf(discord, discordId, openai.callId);
        return all.some((line) => line.includes('Call ended')) ? all : undefined;
      }, 10_000);
      const briefingAt = lines.findIndex((line) => line.includes('Transfer to human agent'));
      expect(lines.slice(briefingAt, briefingAt + 6)).toEqual([
        '🔀 **Transfer to human agent**: their phone is ringing now.',
        `From: ${CALLER}`,
        'Why: billing question',
        'The conversation so far:',
        'Caller: I have a question about my last invoice.',
        'Agent: I can put you through to our billing team.',
      ]);
      const briefing = discord.messagesFor(discordId).find((m) => m.content.includes('Why: billing question'))!;
      expect(briefing.receivedAt).toBeLessThan(join.sentAt);
      const joinedAt = lines.findIndex((line) => line.includes('human agent joined'));
      expect(joinedAt).toBeGreaterThan(briefingAt);
      expect(lines.find((line) => line.includes('Call ended'))).toContain('(transferred)');

      await h.app.get(CallRecordWriter).flush();
      expect(await h.app.get(CallRecordsRepository).getCall(openai.callId)).toMatchObject({ status: 'ended', endReason: 'transferred' });
      const transfer = h.bus.of('call.transfer', (e) => e.callId === openai.callId).map((e) => e.status);
      expect(transfer).toEqual(['dialing', 'joined']);
    });

    it("shows the warm transfer on the console's timeline, live and from storage, where it happened in the call", async () => {
      type Item = { kind: string; speaker?: string; text?: string; name?: string; status?: string; arguments?: string | null; result?: string | null; reason?: string };
      type FeedMessage = { type: string; callId?: string; item?: Item; call?: { callId: string; endReason: string | null } };
      const auth = { authorization: `Bearer ${ADMIN}` };
      const feed = await SseClient.open(`${h.baseUrl}/console/api/feed`, auth);
      try {
        await feed.waitForJson<FeedMessage>((e) => e.type === 'hello');
        fake.nextParticipant({ label: 'human agent' }, { afterMs: 200, event: 'ringing' }, { afterMs: 700, event: 'join' });
        const conversation = script()
          .callerSays('Can I speak to a person about my refund?')
          .agentSays('Of course, let me put you through.')
          .toolCall('transfer_to_human', { reason: 'refund' }, { callId: 'call_console' })
          .expect('response.create')
          .agentSays("I'm connecting you now, please stay on the line.");
        const placed = await fake.placeCall({ from: CALLER, to: DIALLED, openaiScript: conversation });
        const openai = await fake.openaiCall(placed.callSid);
        await h.bus.waitFor('call.ended', (e) => e.callId === openai.callId, 10_000);
        const ended = await feed.waitForJson<FeedMessage>((e) => e.type === 'call' && e.call?.callId === openai.callId && e.call.endReason !== null);
        expect(ended.call!.endReason).toBe('transferred');

        // What a console watching the call saw, as it happened.
        const summary = (item: Item) =>
          item.kind === 'line' ? `${item.speaker}: ${item.text}` : item.kind === 'tool' ? `tool ${item.name} ${item.result === null ? 'running' : item.status}` : item.kind === 'transfer' ? `transfer ${item.status}` : item.kind === 'end' ? `end ${item.reason}` : item.kind;
        const live = feed.json<FeedMessage>().filter((e) => e.type === 'timeline' && e.callId === openai.callId).map((e) => summary(e.item!));
        expect(live).toEqual([
          'caller: Can I speak to a person about my refund?',
          'agent: Of course, let me put you through.',
          'tool transfer_to_human running',
          // The tool dials the human, then answers the model.
          'transfer dialing',
          'tool transfer_to_human succeeded',
          "agent: I'm connecting you now, please stay on the line.",
          'transfer joined',
          'end transferred',
        ]);

        // The call's page from storage: the same story (lines, the tool run with its arguments, the transfer's outcome, the end).
        await h.app.get(CallRecordWriter).flush();
        const response = await fetch(`${h.baseUrl}/calls/${openai.callId}/timeline`, { headers: auth });
        expect(response.status).toBe(200);
        const stored = ((await response.json()) as { items: Item[] }).items;
        // One item per tool run in storage, at its start (the live feed showed it running, then its result).
        expect(stored.map(summary)).toEqual([
          'caller: Can I speak to a person about my refund?',
          'agent: Of course, let me put you through.',
          'tool transfer_to_human succeeded',
          'transfer dialing',
          "agent: I'm connecting you now, please stay on the line.",
          'transfer joined',
          'end transferred',
        ]);
        expect(stored.filter((i) => i.kind === 'transfer').map((i) => i.status)).toEqual(['dialing', 'joined']);
        expect(stored.find((i) => i.kind === 'tool')).toMatchObject({ name: 'transfer_to_human', arguments: JSON.stringify({ reason: 'refund' }), status: 'succeeded' });
        expect(stored.at(-1)).toMatchObject({ kind: 'end', reason: 'transferred' });
      } finally {
        await feed.close();
      }
    });

    it.each(TWILIO_REPLY_SHAPES)('completes a warm transfer whatever the shape of Twilio\'s answers (%s)', async (shape) => {
      fake.replyShape = shape;
      try {
        fake.nextParticipant({ label: 'human agent' }, { afterMs: 50, event: 'ringing' }, { afterMs: 150, event: 'join' });
        const conversation = script()
          .callerSays('A person, please.')
          .toolCall('transfer_to_human', { reason: 'asked for a person' }, { callId: 'call_shape' })
          .expect('response.create')
          .agentSays('Connecting you now.');
        const placed = await fake.placeCall({ from: CALLER, to: DIALLED, openaiScript: conversation });
        expect(placed.status).toBe(200);
        const openai = await fake.openaiCall(placed.callSid);
        const ended = await h.bus.waitFor('call.ended', (e) => e.callId === openai.callId, 10_000);
        expect(ended.reason).toBe('transferred');
        expect(outputOf(openai, 'call_shape')).toMatchObject({ status: 'connecting' });
        expect(humanRequests(placed).map((r) => r.status)).toEqual([201]);
        expect(updatesOf(agentLeg(placed).callSid).map((r) => r.status)).toEqual([200]);
        const humanLeg = fake.participants.find((p) => p.conferenceName === placed.callSid && p.label === 'human agent')!;
        expect(await links.get(placed.callSid)).toMatchObject({
          agentCallSid: agentLeg(placed).callSid,
          humanStatus: 'joined',
          humanCallSid: humanLeg.callSid,
          agentStatus: 'left',
        });
      } finally {
        fake.replyShape = 'documented';
      }
    });

    it('tells the model when the human does not answer, posts it, and the agent keeps helping the caller', async () => {
      fake.nextParticipant({ label: 'human agent' }, { afterMs: 100, event: 'ringing' }, { afterMs: 300, event: 'no-answer' });
      const conversation = script()
        .callerSays('Can I talk to someone?')
        .toolCall('transfer_to_human', {}, { callId: 'call_na' })
        .expect('response.create')
        .agentSays("I'm connecting you now, please stay on the line.")
        .expect('response.create', 5000, 2)
        .agentSays('I am sorry, nobody answered. Can I take a message?')
        .callerSays('No thanks, goodbye.')
        .hangup();
      const placed = await fake.placeCall({ openaiScript: conversation });
      const openai = await fake.openaiCall(placed.callSid);
      const ended = await h.bus.waitFor('call.ended', (e) => e.callId === openai.callId, 10_000);
      expect(ended.reason).toBe('remote_closed');
      expect(openai.scriptError).toBeUndefined();
      expect(systemMessages(openai)).toEqual([expect.stringMatching(/^The transfer did not go through: nobody answered/)]);
      expect(updatesOf(agentLeg(placed).callSid)).toHaveLength(0);
      expect(h.bus.of('call.transfer', (e) => e.callId === openai.callId).map((e) => e.status)).toEqual(['dialing', 'no_answer']);
      await waitUntil(() => discordLinesOf(discord, discordId, openai.callId).find((line) => line.includes('Transfer not answered')));
      // The agent left with no human coming: the bridge ended the caller's call rather than leave them in silence.
      await waitUntil(() => updatesOf(placed.callSid)[0]);
    });

    it('tells the model when the line is busy', async () => {
      fake.nextParticipant({ label: 'human agent' }, { afterMs: 100, event: 'busy' });
      const conversation = script()
        .toolCall('transfer_to_human', {}, { callId: 'call_busy' })
        .expect('response.create')
        .agentSays("I'm connecting you now.")
        .expect('response.create', 5000, 2)
        .agentSays('The line is busy, sorry.')
        .hangup();
      const placed = await fake.placeCall({ openaiScript: conversation });
      const openai = await fake.openaiCall(placed.callSid);
      await h.bus.waitFor('call.ended', (e) => e.callId === openai.callId, 10_000);
      expect(openai.scriptError).toBeUndefined();
      expect(systemMessages(openai)).toEqual([expect.stringMatching(/the line was busy/)]);
      await waitUntil(() => discordLinesOf(discord, discordId, openai.callId).find((line) => line.includes('human agent was busy')));
    });

    it('retries a 429 from Twilio and the transfer goes ahead', async () => {
      const placed = await fake.placeCall({
        openaiScript: script().toolCall('transfer_to_human', {}, { callId: 'call_429' }).expect('response.create').agentSays("I'm connecting you now."),
      });
      fake.respondNext('participants.create', { status: 429, body: { code: 20429, message: 'Too Many Requests', status: 429 } });
      fake.nextParticipant({ label: 'human agent' }, { afterMs: 200, event: 'join' });
      const openai = await fake.openaiCall(placed.callSid);
      const ended = await h.bus.waitFor('call.ended', (e) => e.callId === openai.callId, 10_000);
      expect(ended.reason).toBe('transferred');
      expect(humanRequests(placed).map((r) => r.status)).toEqual([429, 201]);
      expect(outputOf(openai, 'call_429')).toMatchObject({ status: 'connecting' });
    });

    it.each([
      ['500 with Twilio\'s JSON', { status: 500, body: { code: 20500, message: 'Internal Server Error', status: 500 } }],
      ['502 with a proxy\'s HTML page', { status: 502, raw: { text: '<html><body><h1>502 Bad Gateway</h1></body></html>', contentType: 'text/html' } }],
      ['503 with no body', { status: 503, raw: { text: '' } }],
    ])('reports a Twilio %s to the model at once (not retried), and the call goes on', async (_name, fault) => {
      const status = fault.status;
      const conversation = script()
        .toolCall('transfer_to_human', {}, { callId: 'call_500' })
        .expect('response.create')
        .agentSays("I'm sorry, I couldn't put you through. Can I help another way?")
        .hangup();
      const placed = await fake.placeCall({ openaiScript: conversation });
      fake.respondNext('participants.create', fault);
      const openai = await fake.openaiCall(placed.callSid);
      const ended = await h.bus.waitFor('call.ended', (e) => e.callId === openai.callId, 10_000);
      expect(ended.reason).toBe('remote_closed');
      expect(openai.scriptError).toBeUndefined();
      expect(outputOf(openai, 'call_500')).toEqual({
        error: {
          code: 'transfer_failed',
          message: 'The transfer could not be started. Apologise to the caller, and offer to help another way or to take a message.',
        },
      });
      expect(humanRequests(placed)).toHaveLength(1);
      expect(humanRequests(placed)[0].status).toBe(status);
      const failed = await waitUntil(() => discordLinesOf(discord, discordId, openai.callId).find((line) => line.includes('Transfer failed')));
      expect(failed).toMatch(new RegExp(`Twilio refused the call \\\\?\\(HTTP ${status}\\\\?\\)`));
    });
  });

  it('ends the call transferred when another replica saw the human join and ended the agent leg', async () => {
    const placed = await fake.placeCall({});
    const openai = await fake.openaiCall(placed.callSid);
    await h.bus.waitFor('sideband.connected', (e) => e.callId === openai.callId);
    // Replica A received the human's join (recorded in the shared link) and ended the agent's leg; this replica
    // holds the sideband, was told nothing, and runs no transfer of its own that would read the link.
    expect(await links.beginHumanAttempt(placed.callSid, 'att_elsewhere')).toBe(true);
    expect(await links.updateHumanAttempt(placed.callSid, 'att_elsewhere', { status: 'joined' }, ['dialing'])).toBe(true);
    await fake.hangUpCaller(agentLeg(placed).callSid); // ends that participant's call, whoever it is
    expect((await h.bus.waitFor('call.ended', (e) => e.callId === openai.callId)).reason).toBe('transferred');
    await h.app.get(CallRecordWriter).flush();
    expect(await h.app.get(CallRecordsRepository).getCall(openai.callId)).toMatchObject({ status: 'ended', endReason: 'transferred' });
  });

  it("ends the caller's call when the agent hangs up (end_call), so nobody is left in an empty conference", async () => {
    const conversation = script()
      .toolCall('end_call', {}, { callId: 'call_bye' })
      .expect('response.create')
      .agentSays('Goodbye!', { playback: true })
      .playbackStopped();
    const placed = await fake.placeCall({ openaiScript: conversation });
    const openai = await fake.openaiCall(placed.callSid);
    expect((await openai.ended).by).toBe('hangup');
    const [ending] = await waitUntil(() => (updatesOf(placed.callSid).length > 0 ? updatesOf(placed.callSid) : undefined));
    expect(ending.params).toEqual({ Status: 'completed' });
    await waitUntil(() => placed.conference!.ended || undefined);
  });

  it('keeps SIP-trunk calls on SIP REFER (no conference, no Twilio request)', async () => {
    const before = fake.requests.length;
    const { call } = await h.emulator.placeCall(h.webhookUrl, {
      script: script().toolCall('transfer_to_human', {}, { callId: 'call_refer' }),
    });
    expect((await call.ended).by).toBe('refer');
    expect(h.emulator.requestsFor(call.callId, 'refer')[0].body).toEqual({ target_uri: `tel:${HUMAN}` });
    expect(fake.requests.length).toBe(before);
  });
});

describe('per-number agents on Twilio conference calls (TENANTS_FILE)', () => {
  const ACME = '+18005551212';
  const GLOBEX = '+18005553434';
  let h: Harness;
  let fake: FakeTwilio;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'twilio-tenants-'));
    // Calls no profile answers are refused: a profile must be chosen from the number the caller dialled.
    writeFileSync(
      join(dir, 'tenants.yaml'),
      `unmatched: { action: reject, status: 603 }
profiles:
  acme:
    match: { dialled: ["${ACME}"] }
    instructions: You answer the phone for Acme Tools.
    voice: cedar
  globex:
    match: { dialled: ["${GLOBEX}"] }
    instructions: You take messages for Globex.
    voice: sage
`,
    );
    fake = await new FakeTwilio({ accountSid: ACCOUNT, authToken: TOKEN }).start();
    h = await startHarness({
      TWILIO_ACCOUNT_SID: ACCOUNT,
      TWILIO_AUTH_TOKEN: TOKEN,
      TWILIO_API_BASE_URL: fake.baseUrl,
      PUBLIC_BASE_URL: PUBLIC,
      OPENAI_PROJECT_ID: PROJECT,
      TENANTS_FILE: join(dir, 'tenants.yaml'),
    });
    fake.pointAt({ publicBaseUrl: PUBLIC, localBaseUrl: h.baseUrl }).connectOpenAI(h.emulator, h.webhookUrl);
  });

  afterAll(async () => {
    await h?.close();
    await fake?.stop();
    rememberSensitive('secret', fake?.callbacks.map((c) => c.params.CallToken) ?? []);
    rememberSensitive('pii', [CALLER, ACME, GLOBEX]);
  });

  it("answers with the profile of the number the caller dialled, read from the conference link (the agent leg's To is OpenAI's URI)", async () => {
    const placed = await fake.placeCall({ from: CALLER, to: GLOBEX, openaiScript: script().pause(100).hangup() });
    const openai = await fake.openaiCall(placed.callSid);
    expect(openai.sipHeaders).toContainEqual({ name: 'To', value: `<sip:${PROJECT}@sip.api.openai.com;transport=tls>` });

    const accepted = await h.bus.waitFor('call.accepted', (e) => e.callId === openai.callId);
    expect(accepted.profile).toBe('globex');
    expect(accepted.context).toMatchObject({ dialledNumber: GLOBEX, callerNumber: CALLER, conferenceName: placed.callSid });
    const body = h.emulator.requestsFor(openai.callId, 'accept')[0].body as { instructions: string; audio: { output: { voice: string } } };
    expect(body.instructions).toBe('You take messages for Globex.');
    expect(body.audio.output.voice).toBe('sage');
    expect(h.emulator.requestsFor(openai.callId, 'reject')).toHaveLength(0);
  });
});

describe('Twilio webhooks without Twilio configured', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness();
  });

  afterAll(async () => h?.close());

  it('answers 404 and does nothing', async () => {
    for (const path of ['/twilio/voice', '/twilio/conference-events']) {
      const response = await fetch(`${h.baseUrl}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'x' },
        body: 'CallSid=CA0123456789abcdef0123456789abcdef',
      });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: 'not_found' });
    }
  });
});
