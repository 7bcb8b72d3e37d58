import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** The whole e2e run's bridge logs never contain a secret, a phone number, a caller URI or transcript text. */
// Loaded by jest as is (no transform): keep in step with LOG_DIR_VARIABLE in log-capture.ts.
export default function teardown() {
  const dir = process.env.BRIDGE_TEST_LOG_DIR;
  if (!dir) return;
  const files = readdirSync(dir);
  const logs = files.filter((f) => f.endsWith('.log')).map((f) => ({ file: f, text: readFileSync(join(dir, f), 'utf8') }));
  const sensitive = new Map();
  for (const f of files.filter((f) => f.endsWith('.jsonl'))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (!line) continue;
      const { kind, value } = JSON.parse(line);
      sensitive.set(value, kind);
    }
  }
  const lineCount = logs.reduce((n, l) => n + l.text.split('\n').length, 0);
  const leaks = [];
  for (const [value, kind] of sensitive) {
    for (const { file, text } of logs) {
      const at = text.indexOf(value);
      if (at < 0) continue;
      const line = text.slice(text.lastIndexOf('\n', at) + 1, text.indexOf('\n', at)).slice(0, 300);
      leaks.push(`${kind} ${mask(value)} in ${file}: ${line.replace(value, '<HERE>')}`);
      break;
    }
  }
  const ran = logs.length > 0;
  if (ran) console.log(`\nlog scan: ${lineCount} bridge log lines checked against ${sensitive.size} sensitive values`);
  if (leaks.length > 0) throw new Error(`Sensitive values in the bridge's logs:\n  ${leaks.join('\n  ')}`);
  if (ran && sensitive.size === 0) throw new Error('log scan: no sensitive values were recorded; the scan proves nothing');
  if (process.env.KEEP_TEST_LOGS) console.log(`log scan: logs kept in ${dir}`);
  else if (leaks.length === 0) rmSync(dir, { recursive: true, force: true });
}

function mask(value) {
  return value.length <= 8 ? '***' : `${value.slice(0, 4)}…${value.slice(-2)} (${value.length} chars)`;
}
