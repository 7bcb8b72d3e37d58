/** Argument and result keys whose values are never stored or published. */
export const SECRET_KEY = /secret|token|password|key|authorization/i;

export const REDACTED = '[redacted]';

/** How deep redaction walks; anything deeper is dropped (it would not be readable in a record anyway). */
const MAX_DEPTH = 20;

/** A copy of a JSON value with the value of every secret-looking key (at any depth) replaced by "[redacted]". */
export function redactSecrets<T>(value: T): T {
  return redact(value, 0) as T;
}

function redact(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return REDACTED;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] = SECRET_KEY.test(key) ? REDACTED : redact(item, depth + 1);
  }
  return copy;
}

/**
 * A tool output (JSON text or plain text) ready to store and publish: JSON has its secret-looking keys redacted;
 * plain text is kept as the model received it.
 */
export function redactOutput(output: string): string {
  const trimmed = output.trimStart();
  if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return output;
  try {
    return JSON.stringify(redactSecrets(JSON.parse(output)));
  } catch {
    return output;
  }
}
