import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { FakeTwilio, TWILIO_REPLY_SHAPES } from './fake-twilio.js';

const ACCOUNT = `AC${randomBytes(16).toString('hex')}`;
const TOKEN = randomBytes(16).toString('hex');

/** The Participant resource's fields, as Twilio documents them. */
const PARTICIPANT_FIELDS = [
  'account_sid',
  'call_sid',
  'label',
  'call_sid_to_coach',
  'coaching',
  'conference_sid',
  'date_created',
  'date_updated',
  'end_conference_on_exit',
  'muted',
  'hold',
  'start_conference_on_enter',
  'status',
  'queue_time',
  'uri',
];

/** The Call resource's fields, as Twilio documents them. */
const CALL_FIELDS = [
  'sid',
  'date_created',
  'date_updated',
  'parent_call_sid',
  'account_sid',
  'to',
  'to_formatted',
  'from',
  'from_formatted',
  'phone_number_sid',
  'status',
  'start_time',
  'end_time',
  'duration',
  'price',
  'price_unit',
  'direction',
  'answered_by',
  'api_version',
  'forwarded_from',
  'group_sid',
  'caller_name',
  'queue_time',
  'trunk_sid',
  'uri',
  'subresource_uris',
];

describe('FakeTwilio reply shapes', () => {
  let twilio: FakeTwilio;
  beforeEach(async () => {
    twilio = await new FakeTwilio({ accountSid: ACCOUNT, authToken: TOKEN }).start();
  });
  afterEach(() => twilio.stop());

  const post = async (path: string, params: Record<string, string>) => {
    const response = await fetch(`${twilio.baseUrl}/2010-04-01/Accounts/${ACCOUNT}${path}`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${ACCOUNT}:${TOKEN}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(params).toString(),
    });
    return { status: response.status, contentType: response.headers.get('content-type'), text: await response.text() };
  };
  const addHuman = () => post('/Conferences/room-1/Participants.json', { From: '+14155550123', To: '+14155550100', Label: 'human agent' });
  const endCall = (callSid: string) => post(`/Calls/${callSid}.json`, { Status: 'completed' });

  it('documented (the default): the Participant resource, and the few Call fields the fake tracks', async () => {
    expect(twilio.replyShape).toBe('documented');
    const created = await addHuman();
    expect(created).toMatchObject({ status: 201, contentType: 'application/json' });
    const participant = JSON.parse(created.text) as Record<string, unknown>;
    expect(Object.keys(participant).sort()).toEqual([...PARTICIPANT_FIELDS].sort());
    expect(participant).toMatchObject({ account_sid: ACCOUNT, label: 'human agent', status: 'queued', conference_sid: twilio.conferences.get('room-1')!.sid });

    const ended = await endCall(participant.call_sid as string);
    expect(ended.status).toBe(200);
    expect(JSON.parse(ended.text)).toEqual({ sid: participant.call_sid, account_sid: ACCOUNT, status: 'completed', from: '+14155550123', to: '+14155550100' });
  });

  it('full: every documented field of each resource, the values the fake knows, and fields nobody documented', async () => {
    twilio.replyShape = 'full';
    const participant = JSON.parse((await addHuman()).text) as Record<string, unknown>;
    expect(Object.keys(participant)).toEqual(expect.arrayContaining(PARTICIPANT_FIELDS));
    expect(participant).toMatchObject({ label: 'human agent', status: 'queued', future_field: { nested: [1, null] } });

    const callSid = participant.call_sid as string;
    const call = JSON.parse((await endCall(callSid)).text) as Record<string, any>;
    expect(Object.keys(call)).toEqual(expect.arrayContaining([...CALL_FIELDS, 'future_field']));
    expect(call).toMatchObject({
      sid: callSid,
      account_sid: ACCOUNT,
      status: 'completed',
      from: '+14155550123',
      to: '+14155550100',
      uri: `/2010-04-01/Accounts/${ACCOUNT}/Calls/${callSid}.json`,
      end_time: expect.any(String),
      price: null,
    });
    expect(call.subresource_uris.recordings).toBe(`/2010-04-01/Accounts/${ACCOUNT}/Calls/${callSid}/Recordings.json`);
  });

  it('nulls: the same resources with every field null but their SIDs; the request is still carried out', async () => {
    twilio.replyShape = 'nulls';
    const participant = JSON.parse((await addHuman()).text) as Record<string, unknown>;
    expect(Object.keys(participant)).toEqual(expect.arrayContaining(PARTICIPANT_FIELDS));
    const { account_sid: account, call_sid: callSid, ...rest } = participant;
    expect(account).toBe(ACCOUNT);
    expect(callSid).toBe(twilio.participants[0].callSid);
    expect(Object.values(rest).every((value) => value === null)).toBe(true);
    expect(rest).toHaveProperty('conference_sid', null);

    const call = JSON.parse((await endCall(callSid as string)).text) as Record<string, unknown>;
    expect(Object.keys(call)).toEqual(expect.arrayContaining(CALL_FIELDS));
    const { sid, account_sid: callAccount, ...others } = call;
    expect([sid, callAccount]).toEqual([callSid, ACCOUNT]);
    expect(Object.values(others).every((value) => value === null)).toBe(true);
    expect(twilio.participants[0].status).toBe('completed');
  });

  it.each(TWILIO_REPLY_SHAPES)('leaves error answers as Twilio writes them (%s)', async (shape) => {
    twilio.replyShape = shape;
    const unknown = await endCall(`CA${'0'.repeat(32)}`);
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text)).toMatchObject({ code: 20404, status: 404 });
    twilio.respondNext('participants.create', { status: 502, raw: { text: '<html>502 Bad Gateway</html>', contentType: 'text/html' } });
    expect(await addHuman()).toEqual({ status: 502, contentType: 'text/html', text: '<html>502 Bad Gateway</html>' });
    expect(twilio.participants).toHaveLength(0);
  });
});
