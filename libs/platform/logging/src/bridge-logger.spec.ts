import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { BridgeLogger, requestScope, type BridgeLoggerOptions } from './bridge-logger.js';
import { Redactor } from './redactor.js';

function capture(options: BridgeLoggerOptions = {}) {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: new BridgeLogger({ level: 'verbose', ...options, destination: destination as never }), lines };
}

describe('Redactor', () => {
  const secrets = Redactor.secretsIn({
    OPENAI_API_KEY: 'sk-proj-abcdefghijklmnop',
    OPENAI_WEBHOOK_SECRET: 'whsec_AAAAAAAAAAAAAAAA,whsec_BBBBBBBBBBBBBBBB',
    TWILIO_AUTH_TOKEN: '0123456789abcdef0123456789abcdef',
    DISCORD_WEBHOOK_URL: 'https://discord.example/api/webhooks/123/tok-en',
    DATABASE_URL: 'postgres://bridge:p%40ss-word@db:5432/bridge',
    OPENAI_MODEL: 'gpt-realtime',
  });

  it('finds the secret values of an environment, and nothing else', () => {
    expect(secrets).toEqual(
      expect.arrayContaining(['sk-proj-abcdefghijklmnop', 'whsec_AAAAAAAAAAAAAAAA', 'whsec_BBBBBBBBBBBBBBBB', '0123456789abcdef0123456789abcdef', 'p%40ss-word', 'p@ss-word']),
    );
    expect(secrets).not.toContain('gpt-realtime');
  });

  it('removes secrets always, and phone numbers and SIP users unless PII logging is on', () => {
    const text =
      'key sk-proj-abcdefghijklmnop token 0123456789abcdef0123456789abcdef url https://discord.com/api/webhooks/9/x-y ' +
      'db postgres://u:secretpw@h/db auth Bearer abc.def from +14155550123 uri sip:+14155550123@pstn.example;user=phone';
    const strict = new Redactor(secrets).redact(text);
    expect(strict).not.toMatch(/sk-proj|0123456789abcdef|x-y|secretpw|abc\.def|4155550123/);
    expect(strict).toContain('[phone]');
    expect(strict).toContain('sip:[redacted]@pstn.example');
    const pii = new Redactor(secrets, true).redact(text);
    expect(pii).toContain('+14155550123');
    expect(pii).not.toMatch(/sk-proj|0123456789abcdef|secretpw/);
  });

  it('leaves ordinary text alone', () => {
    const text = 'tool lookup_order (call_3, model): succeeded in 2.2 ms, 20000 ms budget, at 1795235616622';
    expect(new Redactor(secrets).redact(text)).toBe(text);
  });
});

describe('BridgeLogger', () => {
  it('writes JSON lines with the context, the call id from the [callId] prefix, and redacted text', () => {
    const { logger, lines } = capture({ secrets: ['super-secret-value'] });
    logger.log('[rtc_abc123] accepted for +14155550123 with super-secret-value', 'CallsService');
    expect(lines[0]).toMatchObject({ level: 'info', context: 'CallsService', callId: 'rtc_abc123', msg: 'accepted for [phone] with [secret]' });
  });

  it('keeps an error stack as a field, redacted', () => {
    const { logger, lines } = capture({ secrets: ['super-secret-value'] });
    logger.error('[rtc_1] failed', 'Error: boom super-secret-value\n    at x', 'Tools');
    expect(lines[0]).toMatchObject({ level: 'error', context: 'Tools', callId: 'rtc_1', msg: 'failed', err: { stack: 'Error: boom [secret]\n    at x' } });
  });

  it('adds the request id while the request is open', () => {
    const { logger, lines } = capture();
    const scope = { reqId: 'req-1', open: true };
    requestScope.run(scope, () => logger.log('inside', 'X'));
    scope.open = false;
    requestScope.run(scope, () => logger.log('after the response', 'X'));
    expect(lines[0].reqId).toBe('req-1');
    expect(lines[1].reqId).toBeUndefined();
  });

  it('honours the level, and moves Nest start-up chatter to debug', () => {
    const { logger, lines } = capture({ level: 'log' });
    logger.debug('hidden', 'X');
    logger.log('Mapped {/health, GET} route', 'RouterExplorer');
    logger.warn('shown', 'X');
    expect(lines.map((l) => l.msg)).toEqual(['shown']);
  });
});

describe('BridgeLogger on stdout', () => {
  it('never opens process.stdout, which would make a piped stdout non-blocking (pino then sleeps 100 ms per full pipe)', () => {
    const descriptor = Object.getOwnPropertyDescriptor(process, 'stdout')!;
    let opened = 0;
    Object.defineProperty(process, 'stdout', {
      configurable: true,
      enumerable: descriptor.enumerable ?? true,
      get() {
        opened++;
        return descriptor.get ? descriptor.get.call(process) : descriptor.value;
      },
    });
    try {
      new BridgeLogger({ level: 'error' });
    } finally {
      Object.defineProperty(process, 'stdout', descriptor);
    }
    expect(opened).toBe(0);
  });
});

