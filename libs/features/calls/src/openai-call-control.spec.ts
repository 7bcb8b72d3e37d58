import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import type { callControlConfig } from './calls.config.js';
import { CallControlError, CallControlErrorCode } from './calls.errors.js';
import { OpenAICallControl } from './openai-call-control.js';
import { OpenAIHttpTransport } from './openai-http-transport.js';
import type { ConfigType } from '#config';
import { ERROR_SHAPES, OpenAIEmulator, SUCCESS_SHAPES, newWebhookSecret, type ErrorShape } from '#emulator';

const DEADLINE_MS = 60;
const API_KEY = 'sk-test-call-control-0123456789';

/** The real SDK over a transport that answers at once and keeps the abort signal of every request it is given. */
function controlWith(answer: () => Response) {
  const signals: AbortSignal[] = [];
  const client = new OpenAI({
    apiKey: 'sk-test',
    baseURL: 'http://openai.invalid/v1',
    logLevel: 'off',
    fetch: async (_input, init) => {
      if (init?.signal) signals.push(init.signal);
      return answer();
    },
  });
  const config = { acceptTimeoutMs: DEADLINE_MS } as ConfigType<typeof callControlConfig>;
  return { control: new OpenAICallControl(client, config), signals };
}

describe('OpenAICallControl.accept', () => {
  it('disarms its deadline once the accept is answered: nothing aborts afterwards', async () => {
    const { control, signals } = controlWith(() => new Response(null, { status: 200 }));
    await expect(control.accept('rtc_1', { type: 'realtime', model: 'gpt-realtime' })).resolves.toBe('accepted');
    expect(signals).toHaveLength(1);
    await sleep(DEADLINE_MS * 3);
    expect(signals[0].aborted).toBe(false);
  });

  it('answers caller_gone on 404 and leaves nothing armed either', async () => {
    const { control, signals } = controlWith(() => new Response('{"error":{"message":"gone"}}', { status: 404 }));
    await expect(control.accept('rtc_2', { type: 'realtime', model: 'gpt-realtime' })).resolves.toBe('caller_gone');
    await sleep(DEADLINE_MS * 3);
    expect(signals.every((signal) => !signal.aborted)).toBe(true);
  });
});

/** The production client (the SDK over the bridge's own transport) against the emulator, answering in every shape. */
describe('OpenAICallControl against every answer shape', () => {
  let emulator: OpenAIEmulator;
  let transport: OpenAIHttpTransport;
  let client: OpenAI;
  let control: OpenAICallControl;

  beforeAll(async () => {
    emulator = await new OpenAIEmulator({ apiKey: API_KEY, webhookSecret: newWebhookSecret() }).start();
    transport = new OpenAIHttpTransport();
    client = new OpenAI({ apiKey: API_KEY, baseURL: emulator.baseUrl, logLevel: 'off', maxRetries: 1, fetch: transport.fetch });
    control = new OpenAICallControl(client, { acceptTimeoutMs: 2000 } as ConfigType<typeof callControlConfig>);
  });
  afterAll(async () => {
    transport.onApplicationShutdown();
    await emulator.stop();
  });

  const ACCEPT = { type: 'realtime', model: 'gpt-realtime' } as const;

  it('the JSON-labelled chunked empty body is a shape the SDK alone cannot parse (so the matrix below can fail)', async () => {
    const call = emulator.createCall();
    call.replyShape = 'empty-json-chunked';
    await expect(client.realtime.calls.accept(call.callId, ACCEPT)).rejects.toThrow(/JSON/);
    expect(emulator.requestsFor(call.callId, 'accept')[0].status).toBe(200);
  });

  it.each(SUCCESS_SHAPES)('takes a %s answer as success for accept, refer, hangup and reject', async (shape) => {
    const call = emulator.createCall();
    call.replyShape = shape;
    await expect(control.accept(call.callId, ACCEPT)).resolves.toBe('accepted');
    await expect(control.refer(call.callId, 'tel:+14155550100')).resolves.toBeUndefined();
    await expect(control.hangup(call.callId)).resolves.toBeUndefined();
    const other = emulator.createCall();
    other.replyShape = shape;
    await expect(control.reject(other.callId, 486)).resolves.toBeUndefined();
    expect(emulator.requestsFor(call.callId).map((r) => `${r.action} ${r.status}`)).toEqual(['accept 200', 'refer 200', 'hangup 200']);
    expect(emulator.requestsFor(other.callId).map((r) => `${r.action} ${r.status}`)).toEqual(['reject 200']);
  });

  it('keeps the connection usable after a body it did not read', async () => {
    emulator.replyShape = 'extra-fields';
    try {
      for (let i = 0; i < 5; i++) {
        const call = emulator.createCall();
        await expect(control.accept(call.callId, ACCEPT)).resolves.toBe('accepted');
      }
    } finally {
      emulator.replyShape = 'empty';
    }
  });

  const failing = (status: number, shape: ErrorShape) => {
    const call = emulator.createCall();
    const fault = { status, shape, body: { error: { message: 'refused by the test', code: 'test' } } };
    call.acceptFaults.push(fault, fault);
    return call;
  };

  describe.each(ERROR_SHAPES)('an error answered as %s', (shape) => {
    it('404 means the caller is gone', async () => {
      const call = failing(404, shape);
      await expect(control.accept(call.callId, ACCEPT)).resolves.toBe('caller_gone');
      expect(emulator.requestsFor(call.callId, 'accept')).toHaveLength(1);
    });

    // Each retry waits the SDK's backoff (about half a second): every status with OpenAI's JSON, one with the others.
    it.each(shape === 'openai-json' ? [500, 503, 429] : [502])('%i is worth a retry: retried once, then a retryable error', async (status) => {
      const call = failing(status, shape);
      const error = (await control.accept(call.callId, ACCEPT).catch((e: unknown) => e)) as CallControlError;
      expect(error).toBeInstanceOf(CallControlError);
      expect(error.outcome).toBe('retry');
      expect(error.upstreamStatus).toBe(status);
      expect(error.message).toMatch(new RegExp(`^accept answered HTTP ${status}: `));
      expect(emulator.requestsFor(call.callId, 'accept')).toHaveLength(2);
    });

    it.each([400, 401, 403, 422])('%i fails for good: not retried, the status and the first bytes of the body kept', async (status) => {
      const call = failing(status, shape);
      const error = (await control.accept(call.callId, ACCEPT).catch((e: unknown) => e)) as CallControlError;
      expect(error.code).toBe(CallControlErrorCode.Refused);
      expect(error.outcome).toBe('failed');
      expect(emulator.requestsFor(call.callId, 'accept')).toHaveLength(1);
      expect(error.message).toMatch(new RegExp(`^accept answered HTTP ${status}: \\S`));
      expect(error.message).not.toMatch(/[\r\n]/);
      expect(error.message.length).toBeLessThan(260);
      if (shape === 'openai-json') expect(error.message).toContain('refused by the test');
      if (shape === 'html') expect(error.message).toContain('<html>');
    });
  });

  it('classifies reject, refer and hangup failures the same way', async () => {
    const call = emulator.createCall();
    const refer = (await control.refer(call.callId, 'not-a-uri').catch((e: unknown) => e)) as CallControlError;
    expect([refer.outcome, refer.upstreamStatus]).toEqual(['failed', 400]);
    const gone = (await control.hangup('rtc_unknown').catch((e: unknown) => e)) as CallControlError;
    expect([gone.outcome, gone.upstreamStatus]).toEqual(['caller_gone', 404]);
  });

  it('a request OpenAI does not answer in time is worth a retry', async () => {
    const quick = new OpenAICallControl(client, { acceptTimeoutMs: 300 } as ConfigType<typeof callControlConfig>);
    const call = emulator.createCall();
    call.acceptFaults.push({ status: 200, delayMs: 1000 }, { status: 200, delayMs: 1000 });
    const error = (await quick.accept(call.callId, ACCEPT).catch((e: unknown) => e)) as CallControlError;
    expect([error.code, error.outcome]).toEqual([CallControlErrorCode.Timeout, 'retry']);
  });
});
