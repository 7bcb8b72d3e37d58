import { describe, expect, it } from '@jest/globals';
import { TwilioSignature } from './twilio-signature.js';
import type { TwilioConfig } from './twilio.config.js';
import { FakeTwilio } from '#emulator';

const ACCOUNT = `AC${'0123456789abcdef'.repeat(2)}`;
const TOKEN = 'b2'.repeat(16);
const fake = new FakeTwilio({ accountSid: ACCOUNT, authToken: TOKEN });

function signature(publicBaseUrl = 'https://bridge.example.com/phone', account = true): TwilioSignature {
  const config: TwilioConfig = {
    account: account ? { sid: ACCOUNT, authToken: TOKEN, publicBaseUrl, openaiProjectId: 'proj_x' } : undefined,
    apiBaseUrl: undefined,
    requestTimeoutMs: 5000,
    humanLabel: 'human agent',
    ringTimeoutSeconds: 30,
  };
  return new TwilioSignature(config);
}

const params = { CallSid: 'CA1', From: '+14155550123', To: '+18005551212', CallToken: 'tok' };

describe('TwilioSignature', () => {
  it('accepts what Twilio signed for the public URL (PUBLIC_BASE_URL + the path and query received)', () => {
    const url = 'https://bridge.example.com/phone/twilio/conference-events?conference=CA1&attempt=a1';
    expect(signature().verify('/twilio/conference-events?conference=CA1&attempt=a1', fake.sign(url, params), params)).toBe(true);
  });

  it('refuses a signature for another URL, another body, another token, or none', () => {
    const url = 'https://bridge.example.com/phone/twilio/voice';
    const good = fake.sign(url, params);
    const verifier = signature();
    expect(verifier.verify('/twilio/voice', good, params)).toBe(true);
    expect(verifier.verify('/twilio/voice', fake.sign('http://127.0.0.1:8080/twilio/voice', params), params)).toBe(false);
    expect(verifier.verify('/twilio/voice?x=1', good, params)).toBe(false);
    expect(verifier.verify('/twilio/voice', good, { ...params, From: '+14155550999' })).toBe(false);
    expect(verifier.verify('/twilio/voice', new FakeTwilio({ accountSid: ACCOUNT, authToken: 'c3'.repeat(16) }).sign(url, params), params)).toBe(false);
    expect(verifier.verify('/twilio/voice', undefined, params)).toBe(false);
    expect(verifier.verify('/twilio/voice', '', params)).toBe(false);
    expect(verifier.verify('/twilio/voice', ['a', 'b'], params)).toBe(false);
    expect(verifier.verify('/twilio/voice', 'x'.repeat(10_000), params)).toBe(false);
  });

  it('refuses everything when Twilio is not configured', () => {
    const url = 'https://bridge.example.com/phone/twilio/voice';
    expect(signature(undefined, false).verify('/twilio/voice', fake.sign(url, params), params)).toBe(false);
  });
});
