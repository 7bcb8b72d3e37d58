export interface ErrorMessageOptions {
  /** Put the error's name first (`TypeError: …`), as the first line of a stack trace does. */
  withName?: boolean;
  /** Cut the text to this many characters (a driver's message can quote a whole statement). */
  maxLength?: number;
}

/**
 * The text of anything thrown, for a log line or an error of our own. Duck-typed: what a driver or a library throws
 * is not always `instanceof Error` (another realm, a plain object with a `message`), and a thrown string or number
 * is its own text. Never throws itself (it runs in catch blocks).
 */
export function errorMessage(error: unknown, options: ErrorMessageOptions = {}): string {
  const message = propertyOf(error, 'message');
  let text = typeof message === 'string' ? message : stringOf(error);
  if (options.withName) {
    const name = propertyOf(error, 'name');
    if (typeof message === 'string' && typeof name === 'string' && name !== '') text = `${name}: ${text}`;
  }
  return options.maxLength === undefined ? text : text.slice(0, Math.max(0, options.maxLength));
}

function propertyOf(value: unknown, key: 'message' | 'name'): unknown {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined;
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    return undefined; // a getter that throws
  }
}

function stringOf(value: unknown): string {
  try {
    return String(value);
  } catch {
    // An object without a usable toString (Object.create(null), a throwing one).
    return Object.prototype.toString.call(value);
  }
}
