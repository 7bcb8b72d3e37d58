import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from '@jest/globals';
import OpenAI from 'openai';
import type { callControlConfig } from './calls.config.js';
import { OpenAICallControl } from './openai-call-control.js';
import type { ConfigType } from '#config';

const DEADLINE_MS = 60;

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
