import type { TwilioParams } from './twilio-signature.js';

/** The longest parameter value kept (Twilio's are short; a CallToken is the longest, well under this). */
const MAX_VALUE_LENGTH = 8192;

/** An `application/x-www-form-urlencoded` body as Twilio posts it; a repeated name keeps every value. Never throws. */
export function parseForm(body: string): TwilioParams {
  const params: TwilioParams = Object.create(null);
  for (const [key, value] of new URLSearchParams(body)) {
    const existing = params[key];
    params[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return params;
}

/** The first value of a parameter, trimmed; undefined when absent, empty or implausibly long. */
export function param(params: TwilioParams, name: string): string | undefined {
  const raw = params[name];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  return value && value.length <= MAX_VALUE_LENGTH ? value : undefined;
}

/** A Twilio Call SID: `CA` and 32 hex digits. */
export const CALL_SID = /^CA[0-9a-fA-F]{32}$/;
/** A Twilio Conference SID. */
export const CONFERENCE_SID = /^CF[0-9a-fA-F]{32}$/;
