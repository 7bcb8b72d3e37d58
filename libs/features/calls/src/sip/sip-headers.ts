import type { CallContext } from '#events';

/** One SIP header as OpenAI's SIP connector reports it (`data.sip_headers[]`): the sender's case, order and repeats. */
export interface SipHeader {
  name: string;
  value: string;
}

/** Longest header value (and name) kept; longer ones are cut. */
const MAX_VALUE_LENGTH = 1024;
/** Most headers kept from one INVITE. */
const MAX_HEADERS = 100;
/** Most input entries looked at, so a huge (or sparse) array of junk costs bounded work. */
const MAX_ENTRIES_SCANNED = MAX_HEADERS * 10;
/** A phone number's user part is never longer than this, separators included. */
const MAX_NUMBER_TEXT = 64;

/** Compact header forms (RFC 3261 §7.3.3 and §20), by lower-case compact name. */
const COMPACT_FORMS: ReadonlyMap<string, string> = new Map([
  ['c', 'content-type'],
  ['e', 'content-encoding'],
  ['f', 'from'],
  ['i', 'call-id'],
  ['k', 'supported'],
  ['l', 'content-length'],
  ['m', 'contact'],
  ['s', 'subject'],
  ['t', 'to'],
  ['v', 'via'],
]);

const E164 = /^\+[1-9]\d{7,14}$/;
const INTERNATIONAL_00 = /^00[1-9]\d{7,14}$/;
const VISUAL_SEPARATORS = /[-.() ]/g;
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const CONTROL_OR_DELIMITER = /[\u0000-\u001f\u007f<>"]/;
const HOST = /^[A-Za-z0-9._\-:[\]]+$/;

/** Parses SIP headers into a CallContext. Never throws, whatever the input. */
export function parseCallContext(callId: string, sipHeaders: unknown): CallContext {
  const id = typeof callId === 'string' ? callId : '';
  const headers = safely(() => cleanHeaders(sipHeaders)) ?? [];
  const context: CallContext = { callId: id, sipHeaders: headers };

  const from = safely(() => addressValues(headers, 'from')[0]);
  const callerNumber = safely(() => callerNumberOf(headers, from));
  const fromUri = safely(() => uriOf(from));
  const dialledNumber = safely(() => toE164(addressValues(headers, 'to')[0]));
  const forwardedFrom = safely(() => forwardedFromOf(headers, dialledNumber));
  const sipCallId = safely(() => firstTrimmed(headers, 'call-id'));
  const twilioCallSid = safely(() => firstTrimmed(headers, 'x-twilio-callsid'));
  const conferenceName = safely(() => firstTrimmed(headers, 'x-conferencename'));

  if (callerNumber !== undefined) context.callerNumber = callerNumber;
  if (fromUri !== undefined) context.fromUri = fromUri;
  if (dialledNumber !== undefined) context.dialledNumber = dialledNumber;
  if (forwardedFrom !== undefined) context.forwardedFrom = forwardedFrom;
  if (sipCallId !== undefined) context.sipCallId = sipCallId;
  if (twilioCallSid !== undefined) context.twilioCallSid = twilioCallSid;
  if (conferenceName !== undefined) context.conferenceName = conferenceName;
  return context;
}

/** Case-insensitive lookup; returns all values of a header in order. */
export function headerValues(headers: ReadonlyArray<SipHeader>, name: string): string[] {
  return headersNamed(headers, name).map((header) => header.value);
}

/** Extracts an E.164 number (+ followed by 8–15 digits, first digit 1-9) from a SIP/TEL URI or name-addr, or undefined. */
export function toE164(value: string | undefined): string | undefined {
  return safely(() => {
    const address = parseAddress(value);
    return address === undefined ? undefined : numberOfUri(address.uri);
  });
}

// ---------------------------------------------------------------------------------------------------------------------

function safely<T>(read: () => T | undefined): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function cleanHeaders(input: unknown): SipHeader[] {
  const headers: SipHeader[] = [];
  if (!Array.isArray(input)) return headers;
  const scanned = Math.min(input.length, MAX_ENTRIES_SCANNED);
  for (let i = 0; i < scanned && headers.length < MAX_HEADERS; i++) {
    const header = safely(() => cleanHeader(input[i]));
    if (header !== undefined) headers.push(header);
  }
  return headers;
}

/** The headers whose value `truncate` cut: where their value ends is not where the sender's ended. */
const cutHeaders = new WeakSet<SipHeader>();

function cleanHeader(entry: unknown): SipHeader | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const { name, value } = entry as { name?: unknown; value?: unknown };
  if (typeof name !== 'string' || typeof value !== 'string') return undefined;
  const kept = value.length > MAX_VALUE_LENGTH ? withoutLongDisplayName(value) : value;
  const header = { name: truncate(name), value: truncate(kept) };
  if (kept.length > MAX_VALUE_LENGTH) cutHeaders.add(header);
  return header;
}

/**
 * The values of an address header (From, To, P-Asserted-Identity, Diversion, History-Info) as far as they can be
 * trusted. A cut value is read only up to its last `>`: what follows it was cut somewhere, and a bare URI cut short
 * still looks like a number, a different one (`tel:+14155550123` cut to `tel:+1415555012`).
 */
function addressValues(headers: ReadonlyArray<SipHeader>, name: string): string[] {
  return headersNamed(headers, name).map((header) =>
    cutHeaders.has(header) ? header.value.slice(0, header.value.lastIndexOf('>') + 1) : header.value,
  );
}

/** The headers of one name (case-insensitive, compact forms expanded), in order; entries of the wrong shape skipped. */
function headersNamed(headers: ReadonlyArray<SipHeader>, name: string): SipHeader[] {
  const found: SipHeader[] = [];
  if (!Array.isArray(headers as unknown) || typeof name !== 'string') return found;
  const wanted = canonicalName(name);
  for (const header of headers) {
    if (typeof header !== 'object' || header === null) continue;
    if (typeof header.name !== 'string' || typeof header.value !== 'string') continue;
    if (canonicalName(header.name) === wanted) found.push(header);
  }
  return found;
}

/**
 * A name-addr whose display name alone is too long (`"<5,000 characters>" <sip:+1…@host>;tag=…`) keeps its address:
 * the display name is never read, and cutting the value would cut the number off with it.
 */
function withoutLongDisplayName(value: string): string {
  const text = value.trim();
  const open = angleOpen(text);
  return open !== undefined && open > 0 ? text.slice(open) : value;
}

/** Cuts to MAX_VALUE_LENGTH code units without leaving half a surrogate pair at the end. */
function truncate(text: string): string {
  if (text.length <= MAX_VALUE_LENGTH) return text;
  const last = text.charCodeAt(MAX_VALUE_LENGTH - 1);
  const end = last >= 0xd800 && last <= 0xdbff ? MAX_VALUE_LENGTH - 1 : MAX_VALUE_LENGTH;
  return text.slice(0, end);
}

/** Header names seen recently and their canonical form: the same dozen names arrive on every call. */
const canonicalNames = new Map<string, string>();
const CANONICAL_NAMES_KEPT = 256;

/** Lower-cases ASCII only (so e.g. the Kelvin sign never folds into "k") and expands compact forms. */
function canonicalName(name: string): string {
  let canonical = canonicalNames.get(name);
  if (canonical === undefined) {
    const lower = name.trim().replace(/[A-Z]+/g, (run) => run.toLowerCase());
    canonical = COMPACT_FORMS.get(lower) ?? lower;
    // Names come from outside: the cache is bounded, and simply starts again when full.
    if (canonicalNames.size >= CANONICAL_NAMES_KEPT) canonicalNames.clear();
    canonicalNames.set(name, canonical);
  }
  return canonical;
}

function firstTrimmed(headers: ReadonlyArray<SipHeader>, name: string): string | undefined {
  for (const value of headerValues(headers, name)) {
    const trimmed = value.trim();
    if (trimmed.length > 0) return trimmed;
  }
  return undefined;
}

/** P-Asserted-Identity (any value, any list entry, first with a number), else From. */
function callerNumberOf(headers: ReadonlyArray<SipHeader>, from: string | undefined): string | undefined {
  for (const value of addressValues(headers, 'p-asserted-identity')) {
    for (const entry of splitList(value)) {
      const number = toE164(entry);
      if (number !== undefined) return number;
    }
  }
  return toE164(from);
}

/** Diversion (first list entry with a number), else History-Info (lowest index whose number is not the dialled one). */
function forwardedFromOf(headers: ReadonlyArray<SipHeader>, dialledNumber: string | undefined): string | undefined {
  for (const value of addressValues(headers, 'diversion')) {
    for (const entry of splitList(value)) {
      const number = toE164(entry);
      if (number !== undefined) return number;
    }
  }

  const entries = addressValues(headers, 'history-info')
    .flatMap(splitList)
    .map((entry, position) => ({ entry, position, index: historyIndex(entry) }));
  entries.sort((a, b) => compareIndex(a.index, b.index) || a.position - b.position);
  for (const { entry } of entries) {
    const number = toE164(entry);
    if (number !== undefined && number !== dialledNumber) return number;
  }
  return undefined;
}

/** The `index` parameter of a History-Info entry ("1.1.2" → [1, 1, 2]), or undefined when absent or malformed. */
function historyIndex(entry: string): number[] | undefined {
  const address = parseAddress(entry);
  if (address === undefined) return undefined;
  const match = /(?:^|;)\s*index\s*=\s*([^;]*)/i.exec(address.params);
  if (match === null) return undefined;
  const parts = match[1].trim().split('.');
  if (parts.length > 32 || !parts.every((part) => /^\d{1,9}$/.test(part))) return undefined;
  return parts.map(Number);
}

/** Orders History-Info indexes as the tree they describe (1 < 1.1 < 1.2 < 2); missing indexes sort last. */
function compareIndex(a: number[] | undefined, b: number[] | undefined): number {
  if (a === undefined || b === undefined) return (a === undefined ? 1 : 0) - (b === undefined ? 1 : 0);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

/** Splits a header value on commas that are outside quoted strings and <...>. */
function splitList(value: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let inQuote = false;
  let inAngle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (inQuote) {
      if (c === '\\') i++;
      else if (c === '"') inQuote = false;
    } else if (inAngle) {
      if (c === '>') inAngle = false;
    } else if (c === '"') {
      inQuote = true;
    } else if (c === '<') {
      inAngle = true;
    } else if (c === ',') {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(value.slice(start));
  return parts.map((part) => part.trim()).filter((part) => part.length > 0);
}

interface Address {
  /** The URI inside <...>, or the bare addr-spec without its header parameters. */
  uri: string;
  /** Header parameters after the URI (";tag=...;index=1"). */
  params: string;
}

/**
 * Splits a name-addr (`"Display" <uri>;params`) or addr-spec (`uri;params`). The display name is skipped, never read.
 * Undefined for an unterminated quote, a `<` without its `>`, or a `>` without its `<`.
 */
function parseAddress(value: unknown): Address | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  const open = angleOpen(text);
  if (open === undefined) return undefined;
  if (open >= 0) {
    const close = text.indexOf('>', open + 1);
    if (close < 0) return undefined;
    return { uri: text.slice(open + 1, close).trim(), params: text.slice(close + 1) };
  }
  let bare = text;
  if (bare.startsWith('"')) {
    const end = quotedStringEnd(bare, 0);
    if (end === undefined) return undefined;
    bare = bare.slice(end).trim();
  }
  if (bare.includes('>')) return undefined;
  const cut = firstIndexOf(bare, ';,');
  return { uri: bare.slice(0, cut).trim(), params: bare.slice(cut) };
}

/** Index of the first `<` outside quoted strings, -1 when there is none, undefined when a quote never closes. */
function angleOpen(text: string): number | undefined {
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '<') return i;
    if (c === '"') {
      const end = quotedStringEnd(text, i);
      if (end === undefined) return undefined;
      i = end - 1;
    }
  }
  return -1;
}

/** Given the index of an opening quote, the index just past its closing quote (backslash escapes honoured). */
function quotedStringEnd(text: string, open: number): number | undefined {
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i + 1;
  }
  return undefined;
}

function firstIndexOf(text: string, characters: string): number {
  for (let i = 0; i < text.length; i++) {
    if (characters.includes(text[i])) return i;
  }
  return text.length;
}

/** The phone number in a sip:/sips:/tel: URI's user part, or in a bare number with no scheme at all. */
function numberOfUri(uri: string): string | undefined {
  const scheme = SCHEME.exec(uri);
  if (scheme === null) return normaliseNumber(uri);
  const rest = uri.slice(scheme[0].length);
  switch (scheme[1].toLowerCase()) {
    case 'tel':
      return normaliseNumber(percentDecode(rest.slice(0, firstIndexOf(rest, ';?'))));
    case 'sip':
    case 'sips': {
      const at = rest.indexOf('@');
      if (at <= 0) return undefined;
      const userinfo = rest.slice(0, at);
      return normaliseNumber(percentDecode(userinfo.slice(0, firstIndexOf(userinfo, ':;?'))));
    }
    default:
      return undefined;
  }
}

/** `+` and 8–15 digits after removing visual separators; a leading `00` counts as `+`; anything else is rejected. */
function normaliseNumber(text: string): string | undefined {
  if (text.length > MAX_NUMBER_TEXT) return undefined;
  const compact = text.replace(VISUAL_SEPARATORS, '');
  if (E164.test(compact)) return compact;
  if (INTERNATIONAL_00.test(compact)) return `+${compact.slice(2)}`;
  return undefined;
}

function percentDecode(text: string): string {
  return text.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The From URI when it looks like a real sip:/sips:/tel: URI (kept even when it holds no number). */
function uriOf(value: string | undefined): string | undefined {
  const address = parseAddress(value);
  if (address === undefined) return undefined;
  const { uri } = address;
  const scheme = SCHEME.exec(uri);
  if (scheme === null || CONTROL_OR_DELIMITER.test(uri)) return undefined;
  const rest = uri.slice(scheme[0].length);
  switch (scheme[1].toLowerCase()) {
    case 'tel':
      return rest.slice(0, firstIndexOf(rest, ';?')).trim().length > 0 ? uri : undefined;
    case 'sip':
    case 'sips': {
      const at = rest.indexOf('@');
      if (at === 0) return undefined;
      const hostport = rest.slice(at + 1);
      return HOST.test(hostport.slice(0, firstIndexOf(hostport, ';?'))) ? uri : undefined;
    }
    default:
      return undefined;
  }
}
