import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { errorMessage } from '#resilience';
// @ts-expect-error -- plain JavaScript: jest loads it before any transform exists
import teardown from './support/log-scan.teardown.mjs';

/** The log scan that ends every e2e run must be able to fail: here it is given logs with leaks. */
describe('the e2e log scan', () => {
  const saved = process.env.BRIDGE_TEST_LOG_DIR;
  afterEach(() => {
    process.env.BRIDGE_TEST_LOG_DIR = saved;
  });

  function run(files: Record<string, string>): () => void {
    const dir = mkdtempSync(join(tmpdir(), 'log-scan-spec-'));
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    return () => {
      process.env.BRIDGE_TEST_LOG_DIR = dir;
      (teardown as () => void)();
    };
  }

  const sensitive = [
    { kind: 'secret', value: 'whsec_c2VjcmV0LXNpZ25pbmcta2V5' },
    { kind: 'pii', value: '+14155550123' },
    { kind: 'pii', value: 'I would like to cancel my order' },
  ]
    .map((s) => JSON.stringify(s))
    .join('\n');

  it('fails on a secret, a phone number or transcript text in a log line, naming none of them in full', () => {
    for (const leak of ['whsec_c2VjcmV0LXNpZ25pbmcta2V5', '+14155550123', 'I would like to cancel my order']) {
      const check = run({ 'bridge-1.log': `{"msg":"clean line"}\n{"msg":"oops ${leak}"}\n`, 'sensitive-1.jsonl': sensitive });
      expect(check).toThrow(/Sensitive values in the bridge's logs/);
      try {
        check();
      } catch (error) {
        expect(errorMessage(error)).not.toContain(leak);
      }
    }
  });

  it('passes clean logs and removes the capture directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'log-scan-spec-'));
    writeFileSync(join(dir, 'bridge-1.log'), '{"msg":"accepted with profile default","callId":"rtc_1"}\n');
    writeFileSync(join(dir, 'sensitive-1.jsonl'), sensitive);
    process.env.BRIDGE_TEST_LOG_DIR = dir;
    expect(() => (teardown as () => void)()).not.toThrow();
    expect(() => readdirSync(dir)).toThrow();
  });

  it('refuses to pass when nothing sensitive was recorded (a scan that cannot fail)', () => {
    expect(run({ 'bridge-1.log': '{"msg":"x"}\n' })).toThrow(/proves nothing/);
  });
});
