/**
 * Every end-to-end suite writes the bridge's real log output (the production logger, at the most verbose level)
 * into one directory per jest run, and records what must never appear in it: the secrets it configured, the phone
 * numbers and caller URIs of its calls, the transcript text. `log-scan.teardown.ts` checks all of it after the run.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type DestinationStream } from 'pino';

export const LOG_DIR_VARIABLE = 'BRIDGE_TEST_LOG_DIR';

function directory(): string | undefined {
  const dir = process.env[LOG_DIR_VARIABLE];
  if (dir) mkdirSync(dir, { recursive: true });
  return dir;
}

/** Where this test process writes bridge log lines (undefined when the run has no capture directory). */
export function captureDestination(): DestinationStream | undefined {
  const dir = directory();
  return dir ? pino.destination({ dest: join(dir, `bridge-${process.pid}.log`), sync: true, append: true }) : undefined;
}

/** Appends a built process's output to the capture. */
export function captureOutput(output: string): void {
  const dir = directory();
  if (dir && output) appendFileSync(join(dir, `process-${process.pid}.log`), output.endsWith('\n') ? output : `${output}\n`);
}

/** What must never be logged: `secret` values always, `pii` values because LOG_PII is off in tests. */
export function rememberSensitive(kind: 'secret' | 'pii', values: Iterable<string | undefined | null>): void {
  const dir = directory();
  if (!dir) return;
  const lines = [...values]
    .filter((v): v is string => typeof v === 'string' && v.trim().length >= 8)
    .map((value) => JSON.stringify({ kind, value }));
  if (lines.length > 0) appendFileSync(join(dir, `sensitive-${process.pid}.jsonl`), lines.join('\n') + '\n');
}

/** The values of an environment that are secrets, by the service's own naming rule. */
export function secretsOf(env: Record<string, string | undefined>): string[] {
  return Object.entries(env).flatMap(([name, value]) =>
    value && (/(_KEY|_SECRET|_TOKEN|_PASSWORD)$/.test(name) || /WEBHOOK_URL$/.test(name)) ? value.split(',').map((v) => v.trim()) : [],
  );
}
