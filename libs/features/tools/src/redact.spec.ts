import { describe, expect, it } from '@jest/globals';
import { REDACTED, redactOutput, redactSecrets } from './redact.js';

describe('redactSecrets', () => {
  it('replaces the values of secret-looking keys at any depth, and nothing else', () => {
    const input = {
      order: '4217',
      api_key: 'k',
      nested: { Password: 'p', list: [{ accessToken: 't', keep: 1 }], Authorization: 'Bearer x' },
      client_secret: { deep: 'value' },
    };
    expect(redactSecrets(input)).toEqual({
      order: '4217',
      api_key: REDACTED,
      nested: { Password: REDACTED, list: [{ accessToken: REDACTED, keep: 1 }], Authorization: REDACTED },
      client_secret: REDACTED,
    });
    expect(input.api_key).toBe('k'); // a copy
  });

  it('passes primitives through', () => {
    expect(redactSecrets('token')).toBe('token');
    expect(redactSecrets(null)).toBeNull();
  });
});

describe('redactOutput', () => {
  it('redacts JSON outputs and keeps plain text as it is', () => {
    expect(redactOutput('{"status":"ok","session_token":"abc"}')).toBe(`{"status":"ok","session_token":"${REDACTED}"}`);
    expect(redactOutput('Order 4217 shipped.')).toBe('Order 4217 shipped.');
    expect(redactOutput('{not json')).toBe('{not json');
  });
});
