import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { TwilioVoice, WEBHOOK_REQUEST_BUDGET_MS } from './twilio-voice.js';
import type { TwilioConfig } from './twilio.config.js';
import { TwilioErrorCode, TwilioRequestError } from './twilio.errors.js';
import { FakeTwilio } from '#emulator';

const ACCOUNT = `AC${'0123456789abcdef'.repeat(2)}`;
const TOKEN = 'a1'.repeat(16);

function config(overrides: Partial<TwilioConfig> = {}): TwilioConfig {
  return {
    account: { sid: ACCOUNT, authToken: TOKEN, publicBaseUrl: 'https://bridge.example.com', openaiProjectId: 'proj_test' },
    apiBaseUrl: undefined,
    requestTimeoutMs: 2000,
    humanLabel: 'human agent',
    ringTimeoutSeconds: 30,
    ...overrides,
  };
}

async function failureOf(promise: Promise<unknown>): Promise<TwilioRequestError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TwilioRequestError) return error;
    throw error;
  }
  throw new Error('expected a TwilioRequestError');
}

describe('TwilioVoice (the real twilio SDK against FakeTwilio)', () => {
  let fake: FakeTwilio;
  let voice: TwilioVoice;

  beforeAll(async () => {
    fake = await new FakeTwilio({ accountSid: ACCOUNT, authToken: TOKEN }).start();
  });

  afterAll(() => fake.stop());

  beforeEach(() => {
    fake.requests.length = 0;
    voice = new TwilioVoice(config({ apiBaseUrl: fake.baseUrl }));
  });

  it("adds a participant at Twilio's own path, with basic auth and the SDK's form parameters", async () => {
    const added = await voice.addParticipant('CA0123', {
      from: '+14155550123',
      to: '+14155550100',
      label: 'human agent',
      callToken: 'tok',
      earlyMedia: false,
      timeout: 25,
      statusCallback: 'https://bridge.example.com/twilio/conference-events?x=1',
      statusCallbackEvent: ['completed'],
      statusCallbackMethod: 'POST',
    });
    const [request] = fake.requests;
    expect(request.path).toBe(`/2010-04-01/Accounts/${ACCOUNT}/Conferences/CA0123/Participants.json`);
    expect(request.auth).toEqual({ username: ACCOUNT, password: TOKEN });
    expect(request.params).toEqual({
      From: '+14155550123',
      To: '+14155550100',
      Label: 'human agent',
      CallToken: 'tok',
      EarlyMedia: 'false',
      Timeout: '25',
      StatusCallback: 'https://bridge.example.com/twilio/conference-events?x=1',
      StatusCallbackEvent: 'completed',
      StatusCallbackMethod: 'POST',
    });
    const participant = fake.participants.find((p) => p.callSid === added.callSid)!;
    expect(added).toEqual({ callSid: participant.callSid, conferenceSid: participant.conferenceSid, status: 'queued' });
  });

  it('retries a 429 (nothing was done) and succeeds', async () => {
    fake.respondNext('participants.create', { status: 429, body: { code: 20429, message: 'Too Many Requests', status: 429 } });
    const added = await voice.addParticipant('CA0429', { from: '+1', to: '+2', label: 'x' });
    expect(fake.requests.map((r) => r.status)).toEqual([429, 201]);
    expect(added.callSid).toMatch(/^CA[0-9a-f]{32}$/);
  });

  it('gives up after three 429 retries', async () => {
    const limited = { status: 429, body: { code: 20429, message: 'Too Many Requests', status: 429 } };
    fake.respondNext('participants.create', limited, limited, limited, limited);
    const failure = await failureOf(voice.addParticipant('CA0429', { from: '+1', to: '+2', label: 'x' }));
    expect(failure).toMatchObject({ code: TwilioErrorCode.RateLimited, status: 429, twilioCode: 20429 });
    expect(fake.requests).toHaveLength(4);
  });

  it("tries a request made inside a webhook's answer once: a 429 is not retried", async () => {
    const limited = { status: 429, body: { code: 20429, message: 'Too Many Requests', status: 429 } };
    fake.respondNext('participants.create', limited);
    const failure = await failureOf(voice.addParticipant('CA0429', { from: '+1', to: '+2', label: 'x' }, { withinWebhook: true }));
    expect(failure).toMatchObject({ code: TwilioErrorCode.RateLimited, status: 429 });
    expect(fake.requests).toHaveLength(1);
  });

  it("keeps a request made inside a webhook's answer well within Twilio's 15 s webhook timeout", () => {
    expect(new TwilioVoice(config({ requestTimeoutMs: 60_000 })).webhookRequestMs).toBe(WEBHOOK_REQUEST_BUDGET_MS);
    expect(WEBHOOK_REQUEST_BUDGET_MS).toBeLessThanOrEqual(10_000);
    expect(new TwilioVoice(config({ requestTimeoutMs: 3000 })).webhookRequestMs).toBe(3000);
  });

  it('times out a request made inside a webhook after its own budget, not after every retry', async () => {
    voice = new TwilioVoice(config({ apiBaseUrl: fake.baseUrl, requestTimeoutMs: 500 }));
    fake.respondNext('participants.create', { status: 201, delayMs: 2000 });
    const failure = await failureOf(voice.addParticipant('CA_slow', { from: '+1', to: '+2', label: 'x' }, { withinWebhook: true }));
    expect(failure.code).toBe(TwilioErrorCode.Timeout);
    expect(fake.requests).toHaveLength(1);
  });

  it('never retries a 5xx: a participant may have been created', async () => {
    fake.respondNext('participants.create', { status: 500, body: { code: 20500, message: 'Internal Server Error', status: 500 } });
    const failure = await failureOf(voice.addParticipant('CA0500', { from: '+1', to: '+2', label: 'x' }));
    expect(failure).toMatchObject({ code: TwilioErrorCode.ServerError, status: 500, twilioCode: 20500 });
    expect(failure.message).toBe('Twilio answered 500 (error 20500)');
    expect(fake.requests).toHaveLength(1);
  });

  it('times out a request after TWILIO_REQUEST_TIMEOUT_MS', async () => {
    voice = new TwilioVoice(config({ apiBaseUrl: fake.baseUrl, requestTimeoutMs: 500 }));
    fake.respondNext('participants.create', { status: 201, delayMs: 2000 });
    const started = Date.now();
    const failure = await failureOf(voice.addParticipant('CA_slow', { from: '+1', to: '+2', label: 'x' }));
    expect(failure.code).toBe(TwilioErrorCode.Timeout);
    expect(Date.now() - started).toBeLessThan(1800);
  });

  it('reports an unreachable Twilio, and keeps error messages free of what it sent', async () => {
    voice = new TwilioVoice(config({ apiBaseUrl: 'http://127.0.0.1:9' }));
    const failure = await failureOf(voice.addParticipant('CA1', { from: '+14155550123', to: '+2', label: 'x' }));
    expect(failure.code).toBe(TwilioErrorCode.Unreachable);
    expect(failure.message).not.toContain('+14155550123');
    expect(failure.message).not.toContain(TOKEN);
  });

  it('ends a live call (Status=completed), and says when the call is already gone', async () => {
    const added = await voice.addParticipant('CA_end', { from: '+1', to: '+2', label: 'x' });
    fake.participants.find((p) => p.callSid === added.callSid)!.status = 'in-progress';
    expect(await voice.endCall(added.callSid)).toBe('ended');
    const update = fake.requestsFor('calls.update')[0];
    expect(update.path).toBe(`/2010-04-01/Accounts/${ACCOUNT}/Calls/${added.callSid}.json`);
    expect(update.params).toEqual({ Status: 'completed' });
    expect(await voice.endCall(added.callSid)).toBe('gone');
    expect(await voice.endCall('CA_unknown')).toBe('gone');
  });

  it('refuses to run without an account', async () => {
    voice = new TwilioVoice(config({ account: undefined }));
    expect(voice.enabled).toBe(false);
    expect((await failureOf(voice.endCall('CA1'))).code).toBe(TwilioErrorCode.NotConfigured);
  });
});
