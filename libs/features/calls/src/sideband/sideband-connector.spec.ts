import { describe, expect, it } from '@jest/globals';
import { sidebandUrl } from './sideband-connector.js';

describe('sidebandUrl', () => {
  it('turns the public https API base into a wss URL under the same path', () => {
    expect(sidebandUrl('https://api.openai.com/v1', 'rtc_479a275623b54bdb9b6fbae2f7cbd408')).toBe(
      'wss://api.openai.com/v1/realtime?call_id=rtc_479a275623b54bdb9b6fbae2f7cbd408',
    );
  });

  it('turns an http base (a local emulator) into ws and keeps the port', () => {
    expect(sidebandUrl('http://127.0.0.1:4010/v1', 'rtc_1')).toBe('ws://127.0.0.1:4010/v1/realtime?call_id=rtc_1');
  });

  it('tolerates trailing slashes on the base', () => {
    expect(sidebandUrl('https://api.openai.com/v1/', 'rtc_1')).toBe('wss://api.openai.com/v1/realtime?call_id=rtc_1');
    expect(sidebandUrl('https://api.openai.com/v1///', 'rtc_1')).toBe('wss://api.openai.com/v1/realtime?call_id=rtc_1');
  });

  it('works with a base that has no path', () => {
    expect(sidebandUrl('https://api.openai.com', 'rtc_1')).toBe('wss://api.openai.com/realtime?call_id=rtc_1');
    expect(sidebandUrl('http://localhost:8080/', 'rtc_1')).toBe('ws://localhost:8080/realtime?call_id=rtc_1');
  });

  it('keeps a deeper base path', () => {
    expect(sidebandUrl('https://proxy.example.com/openai/v1', 'rtc_1')).toBe(
      'wss://proxy.example.com/openai/v1/realtime?call_id=rtc_1',
    );
  });

  it('replaces any query string the base carries', () => {
    expect(sidebandUrl('https://api.openai.com/v1?call_id=other&x=1', 'rtc_1')).toBe(
      'wss://api.openai.com/v1/realtime?call_id=rtc_1',
    );
  });

  it('URL-encodes an odd call id so it cannot add parameters or change the path', () => {
    const callId = 'rtc_a b&model=x#frag/../é?';
    const url = new URL(sidebandUrl('https://api.openai.com/v1', callId));
    expect(url.pathname).toBe('/v1/realtime');
    expect(url.hash).toBe('');
    expect([...url.searchParams.keys()]).toEqual(['call_id']);
    expect(url.searchParams.get('call_id')).toBe(callId);
    expect(url.search.slice('?call_id='.length)).toMatch(/^[A-Za-z0-9_.*%+-]+$/);
  });
});
