import { describe, expect, it } from '@jest/globals';
import { headerValues, parseCallContext, toE164, type SipHeader } from './sip-headers.js';

const E164 = /^\+[1-9]\d{7,14}$/;

const h = (name: string, value: string): SipHeader => ({ name, value });

const exampleHeaders: SipHeader[] = [
  h('From', '"Alice" <sip:+14155550123@sip.example.com>;tag=abc'),
  h('To', '<sip:+18005551212@sip.example.com>'),
  h('Call-ID', '03782086-4ce9-44bf-8b0d-4e303d2cc590'),
  h('Diversion', '<sip:+14155550999@carrier.example>;reason=unconditional'),
  h('X-conferenceName', 'CA1234567890abcdef'),
];

/** mulberry32: tiny seeded PRNG so the property-style runs are reproducible. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('parseCallContext', () => {
  it('reads caller, dialled, forwarded numbers and ids from the connector example', () => {
    expect(parseCallContext('rtc_123', exampleHeaders)).toEqual({
      callId: 'rtc_123',
      callerNumber: '+14155550123',
      fromUri: 'sip:+14155550123@sip.example.com',
      dialledNumber: '+18005551212',
      forwardedFrom: '+14155550999',
      sipCallId: '03782086-4ce9-44bf-8b0d-4e303d2cc590',
      conferenceName: 'CA1234567890abcdef',
      sipHeaders: exampleHeaders,
    });
  });

  it('keeps the headers as sent (case, order, repeats) without sharing the input objects', () => {
    const input = [h('x-A', '1'), h('X-a', '2'), h('From', '<sip:bob@example.com>')];
    const { sipHeaders } = parseCallContext('c', input);
    expect(sipHeaders).toEqual(input);
    expect(sipHeaders[0]).not.toBe(input[0]);
  });

  it('matches header names case-insensitively', () => {
    const context = parseCallContext('c', [
      h('fROM', '<sip:+14155550123@h>'),
      h('TO', '<sip:+18005551212@h>'),
      h('call-id', ' abc@host '),
      h('x-twilio-callsid', 'CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'),
      h('X-CONFERENCENAME', ' room-1 '),
    ]);
    expect(context).toMatchObject({
      callerNumber: '+14155550123',
      dialledNumber: '+18005551212',
      sipCallId: 'abc@host',
      twilioCallSid: 'CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
      conferenceName: 'room-1',
    });
  });

  it('recognises the compact forms f, t and i', () => {
    const context = parseCallContext('c', [
      h('f', '<sip:+14155550123@h>;tag=1'),
      h('T', '<sip:+18005551212@h>'),
      h('i', 'call-id-1'),
    ]);
    expect(context).toMatchObject({
      callerNumber: '+14155550123',
      fromUri: 'sip:+14155550123@h',
      dialledNumber: '+18005551212',
      sipCallId: 'call-id-1',
    });
  });

  it('prefers P-Asserted-Identity over From for the caller number', () => {
    const context = parseCallContext('c', [
      h('From', '<sip:+14155550123@h>'),
      h('P-Asserted-Identity', '<sip:+447700900123@carrier>'),
    ]);
    expect(context.callerNumber).toBe('+447700900123');
    expect(context.fromUri).toBe('sip:+14155550123@h');
  });

  it('takes the first P-Asserted-Identity entry that holds a number, across lists and repeats', () => {
    const listed = parseCallContext('c', [
      h('P-Asserted-Identity', '"Help, Desk" <sip:helpdesk@example.com>, <tel:+1-415-555-0177>'),
      h('From', '<sip:+14155550123@h>'),
    ]);
    expect(listed.callerNumber).toBe('+14155550177');

    const repeated = parseCallContext('c', [
      h('P-Asserted-Identity', '<sip:anonymous@anonymous.invalid>'),
      h('p-asserted-identity', '<sip:+33142685300@carrier>'),
    ]);
    expect(repeated.callerNumber).toBe('+33142685300');
  });

  it('falls back to From when P-Asserted-Identity has no number', () => {
    const context = parseCallContext('c', [
      h('P-Asserted-Identity', '<sip:anonymous@anonymous.invalid>'),
      h('From', '<sip:+14155550123@h>'),
    ]);
    expect(context.callerNumber).toBe('+14155550123');
  });

  it('keeps a From URI without a phone number as fromUri only', () => {
    const context = parseCallContext('c', [h('From', '"Alice" <sip:alice@example.com>;tag=9')]);
    expect(context.fromUri).toBe('sip:alice@example.com');
    expect(context.callerNumber).toBeUndefined();
  });

  it('reads fromUri from a bare From URI without its parameters', () => {
    const context = parseCallContext('c', [h('From', 'sip:alice@example.com;tag=9')]);
    expect(context.fromUri).toBe('sip:alice@example.com');
  });

  it('leaves fromUri undefined when From is not a plausible sip/tel URI', () => {
    for (const value of ['<<<', 'sip:@', '<sip:@>', 'sip:alice@', 'garbage', '<mailto:a@b>', '"Alice <sip:a@b>']) {
      expect(parseCallContext('c', [h('From', value)]).fromUri).toBeUndefined();
    }
  });

  it('uses Diversion before History-Info for forwardedFrom', () => {
    const context = parseCallContext('c', [
      h('To', '<sip:+18005551212@h>'),
      h('History-Info', '<sip:+14155550888@h>;index=1, <sip:+18005551212@h>;index=1.1'),
      h('Diversion', '<sip:+14155550999@carrier.example>;reason=unconditional'),
    ]);
    expect(context.forwardedFrom).toBe('+14155550999');
  });

  it('takes the first Diversion entry that holds a number', () => {
    const context = parseCallContext('c', [
      h('Diversion', '<sip:voicemail@pbx>;reason=no-answer, <sip:+14155550999@carrier>;reason=unconditional'),
    ]);
    expect(context.forwardedFrom).toBe('+14155550999');
  });

  it('falls back to the lowest-index History-Info entry that is not the dialled number', () => {
    const context = parseCallContext('c', [
      h('To', '<sip:+18005551212@host>'),
      h(
        'History-Info',
        '<sip:+18005551212@host>;index=1.1, <sip:+14155550999@host?Reason=SIP%3Bcause%3D302>;index=1',
      ),
    ]);
    expect(context.forwardedFrom).toBe('+14155550999');
  });

  it('skips History-Info entries equal to the dialled number and spans repeated headers', () => {
    const context = parseCallContext('c', [
      h('To', '<sip:+18005551212@host>'),
      h('History-Info', '<sip:+18005551212@host>;index=1'),
      h('History-Info', '<sip:+14155550999@host>;index=1.1'),
    ]);
    expect(context.forwardedFrom).toBe('+14155550999');
  });

  it('leaves forwardedFrom undefined when History-Info only names the dialled number', () => {
    const context = parseCallContext('c', [
      h('To', '<sip:+18005551212@host>'),
      h('History-Info', '<sip:+18005551212@host>;index=1'),
    ]);
    expect(context.forwardedFrom).toBeUndefined();
  });

  it('ignores empty identifier headers and uses the first non-empty one', () => {
    const context = parseCallContext('c', [h('Call-ID', '   '), h('Call-ID', ' second ')]);
    expect(context.sipCallId).toBe('second');
  });

  it('treats a non-array header list as empty', () => {
    for (const input of [undefined, null, 42, 'From: x', { name: 'From', value: '<sip:+14155550123@h>' }]) {
      expect(parseCallContext('c', input)).toEqual({ callId: 'c', sipHeaders: [] });
    }
  });

  it('drops entries that are not objects with a string name and a string value', () => {
    const context = parseCallContext('c', [
      null,
      undefined,
      7,
      'From',
      ['From', '<sip:+14155550123@h>'],
      { name: 'From' },
      { name: 'From', value: null },
      { name: 'From', value: 14155550123 },
      { name: 42, value: '<sip:+14155550123@h>' },
      { name: 'To', value: '<sip:+18005551212@h>', extra: true },
    ]);
    expect(context).toEqual({
      callId: 'c',
      dialledNumber: '+18005551212',
      sipHeaders: [h('To', '<sip:+18005551212@h>')],
    });
  });

  it('truncates huge values to 1024 characters without splitting a surrogate pair', () => {
    const huge = `<sip:+14155550123@h>${'x'.repeat(100_000)}`;
    const emoji = `${'a'.repeat(1023)}😀`;
    const { sipHeaders, callerNumber } = parseCallContext('c', [h('From', huge), h('X-Emoji', emoji)]);
    expect(sipHeaders[0].value).toHaveLength(1024);
    expect(callerNumber).toBe('+14155550123');
    expect(sipHeaders[1].value).toBe('a'.repeat(1023));
  });

  it('drops a display name too long to keep, not the address after it', () => {
    const name = `"${'A very long caller name '.repeat(250)}"`;
    const { sipHeaders, callerNumber, fromUri } = parseCallContext('c', [h('From', `  ${name}   <sip:+14155550123@carrier.example>;tag=9f`)]);
    expect(callerNumber).toBe('+14155550123');
    expect(fromUri).toBe('sip:+14155550123@carrier.example');
    expect(sipHeaders[0].value).toBe('<sip:+14155550123@carrier.example>;tag=9f');
  });

  it('never reads a number from where a long value was cut (it could be a shorter, different number)', () => {
    /** `before`, a quoted display name, then `uri`, sized so that the 1,024 characters kept end one short of the URI's end. */
    const cutInside = (before: string, uri: string) => `${before}"${'A'.repeat(1024 - before.length - uri.length - 2)}" ${uri}`;
    const context = parseCallContext('c', [
      h('From', cutInside('', 'tel:+14155550123')),
      h('To', cutInside('', 'tel:+18005551212')),
      h('Diversion', cutInside('<sip:voicemail@pbx>, ', 'tel:+14155550999')),
    ]);
    expect(context.sipHeaders.map((header) => header.value.slice(-15))).toEqual(['tel:+1415555012', 'tel:+1800555121', 'tel:+1415555099']);
    // Each kept prefix is itself a valid-looking E.164 number: reading it would give the call the wrong numbers.
    for (const { value } of context.sipHeaders) expect(toE164(value.slice(value.lastIndexOf('"') + 1))).toMatch(E164);
    expect(context.callerNumber).toBeUndefined();
    expect(context.fromUri).toBeUndefined();
    expect(context.dialledNumber).toBeUndefined();
    expect(context.forwardedFrom).toBeUndefined();
  });

  it('still reads a cut value up to its last ">" (a name-addr followed by huge parameters or list entries)', () => {
    const context = parseCallContext('c', [
      h('From', `"Alice" <sip:+14155550123@h>;tag=${'x'.repeat(5000)}`),
      h('P-Asserted-Identity', `<sip:anonymous@anonymous.invalid>, <tel:+447700900123>, ${'"B" <sip:b@h>, '.repeat(200)}`),
      h('Diversion', `<sip:+14155550999@carrier>;reason=${'y'.repeat(5000)}`),
    ]);
    expect(context).toMatchObject({ callerNumber: '+447700900123', fromUri: 'sip:+14155550123@h', forwardedFrom: '+14155550999' });
  });

  it('reads values with odd spacing and tabs around and inside a name-addr', () => {
    const context = parseCallContext('c', [
      h('  From\t', '  "Alice"   <sip:+14155550123@x.example> ;tag=1 '),
      h('to ', '\t< sip:+18005551212@x.example >\t'),
      h('\tcAlL-iD ', '  abc@host  '),
    ]);
    expect(context).toMatchObject({
      callerNumber: '+14155550123',
      fromUri: 'sip:+14155550123@x.example',
      dialledNumber: '+18005551212',
      sipCallId: 'abc@host',
    });
  });

  it('keeps at most 100 headers', () => {
    const input = Array.from({ length: 150 }, (_, i) => h(`X-${i}`, String(i)));
    const { sipHeaders } = parseCallContext('c', input);
    expect(sipHeaders).toHaveLength(100);
    expect(sipHeaders[99]).toEqual(h('X-99', '99'));
  });

  it('never throws on hostile inputs', () => {
    const throwing = new Proxy([h('From', '<sip:+14155550123@h>')], {
      get(target, property, receiver) {
        if (property === '0') throw new Error('boom');
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    const getter = {
      get name(): string {
        throw new Error('boom');
      },
      value: 'x',
    };
    const inputs: unknown[] = [
      throwing,
      [getter, h('Call-ID', 'ok')],
      new Array(1e9),
      [h('From', '<<<'), h('To', 'sip:@'), h('History-Info', '<sip:+1@h>;index=a.b'), h('Diversion', '>')],
      [h('From', '"unterminated <sip:+14155550123@h>'), h('To', '<sip:+18005551212@h')],
      [h('From', 'sip:+14155550123@h>'), h('P-Asserted-Identity', ',,,<>,"",')],
      [h('From', '\u0000\uD800☎️ <sip:☎@☎>'), h('Call-ID', '\u{1F4DE}')],
    ];
    for (const input of inputs) {
      expect(() => parseCallContext('c', input)).not.toThrow();
    }
    expect(parseCallContext('c', [getter, h('Call-ID', 'ok')]).sipCallId).toBe('ok');
    expect(parseCallContext(undefined as unknown as string, []).callId).toBe('');
  });

  it('yields undefined fields for garbage without a "<"', () => {
    const context = parseCallContext('c', [h('From', 'sip:+14155550123@h>'), h('To', 'just text')]);
    expect(context.callerNumber).toBeUndefined();
    expect(context.dialledNumber).toBeUndefined();
    expect(context.fromUri).toBeUndefined();
  });
});

describe('headerValues', () => {
  it('returns every value of a header in order, case-insensitively, including compact forms', () => {
    const headers = [h('From', 'a'), h('X-Other', 'b'), h('f', 'c'), h('FROM', 'd')];
    expect(headerValues(headers, 'from')).toEqual(['a', 'c', 'd']);
    expect(headerValues(headers, 'F')).toEqual(['a', 'c', 'd']);
    expect(headerValues(headers, 'x-other')).toEqual(['b']);
    expect(headerValues(headers, 'missing')).toEqual([]);
  });

  it('does not treat names like "constructor" as compact forms', () => {
    expect(headerValues([h('constructor', 'x')], 'constructor')).toEqual(['x']);
    expect(headerValues([h('constructor', 'x')], 'from')).toEqual([]);
  });

  it('returns nothing for non-array input', () => {
    expect(headerValues(null as unknown as SipHeader[], 'From')).toEqual([]);
  });
});

describe('toE164', () => {
  it.each([
    ['sip:+14155550123@sip.example.com', '+14155550123'],
    ['sips:+14155550123@sip.example.com', '+14155550123'],
    ['SIP:+14155550123@sip.example.com', '+14155550123'],
    ['<sip:+14155550123@h;user=phone>;tag=x', '+14155550123'],
    ['<sip:+14155550123;isub=12@h?X-Foo=bar>', '+14155550123'],
    ['<sip:+14155550123:secret@h>', '+14155550123'],
    ['<sip:%2B14155550123@h>', '+14155550123'],
    ['tel:+14155550123', '+14155550123'],
    ['<tel:+1-415-555-0123>', '+14155550123'],
    ['<tel:+1.415.555.0123;ext=7>', '+14155550123'],
    ['<tel:+1 (415) 555-0123>', '+14155550123'],
    ['"Alice" <sip:+1-415-555-0123@h>', '+14155550123'],
    ['+14155550123', '+14155550123'],
  ])('reads %s', (input, expected) => {
    expect(toE164(input)).toBe(expected);
  });

  it('converts a 00 international prefix to +', () => {
    expect(toE164('<sip:00442071838750@h>')).toBe('+442071838750');
    expect(toE164('tel:0044-20-7183-8750')).toBe('+442071838750');
  });

  it('rejects numbers without + or 00 (national or ambiguous)', () => {
    for (const value of ['<sip:14155550123@h>', '<sip:4155550123@h>', 'tel:5550123;phone-context=+1415', 'sip:0207183875@h']) {
      expect(toE164(value)).toBeUndefined();
    }
  });

  it('rejects numbers of the wrong length or with a leading zero country code', () => {
    for (const value of ['sip:+1234567@h', 'sip:+1234567890123456@h', 'sip:+0123456789@h', 'sip:000123456789@h']) {
      expect(toE164(value)).toBeUndefined();
    }
    expect(toE164('sip:+12345678@h')).toBe('+12345678');
    expect(toE164('sip:+123456789012345@h')).toBe('+123456789012345');
  });

  it('ignores numbers in display names', () => {
    expect(toE164('"+1 555" <sip:alice@example.com>')).toBeUndefined();
    expect(toE164('"+14155550123" <sip:alice@example.com>')).toBeUndefined();
    expect(toE164('+14155550123 <sip:alice@example.com>')).toBeUndefined();
    expect(toE164('"tricky <sip:+14155550123@h>" <sip:alice@h>')).toBeUndefined();
    expect(toE164('"+14155550123"')).toBeUndefined();
  });

  it('does not read the host, other schemes, or non-ASCII digits as a number', () => {
    for (const value of ['sip:+14155550123', 'sip:example.com', 'mailto:+14155550123@h', 'sip:+１４１５５５５０１２３@h', 'sip:alice@+14155550123']) {
      expect(toE164(value)).toBeUndefined();
    }
  });

  it('returns undefined for garbage', () => {
    for (const value of [undefined, '', '<<<', 'sip:@', '<>', '<sip:+14155550123@h', 'sip:+14155550123@h>', '"', 'x'.repeat(100_000)]) {
      expect(toE164(value)).toBeUndefined();
    }
    expect(toE164(null as unknown as string)).toBeUndefined();
    expect(toE164(14155550123 as unknown as string)).toBeUndefined();
  });
});

describe('property: random input', () => {
  const alphabet = ['<', '>', ';', ':', '@', '+', '"', "'", ',', '?', '=', '\\', ' ', '-', '.', '(', ')', '%', 's', 'i', 'p', 't', 'e', 'l', 'x', '0', '0', '1', '4', '5', '9', '\u0000', '\uD800', 'é', '📞'];
  const names = ['From', 'f', 'To', 't', 'Call-ID', 'i', 'P-Asserted-Identity', 'Diversion', 'History-Info', 'X-conferenceName'];

  it('never throws on 2,000 random strings and only ever yields E.164 numbers', () => {
    const random = prng(0xc0ffee);
    const randomString = (): string => {
      const length = Math.floor(random() * (random() < 0.05 ? 3000 : 60));
      let text = '';
      for (let i = 0; i < length; i++) text += alphabet[Math.floor(random() * alphabet.length)];
      return text;
    };

    for (let run = 0; run < 2000; run++) {
      const text = randomString();
      const number = toE164(text);
      if (number !== undefined) expect(number).toMatch(E164);

      const headers = names.map((name) => h(name, random() < 0.5 ? text : randomString()));
      let context: ReturnType<typeof parseCallContext> | undefined;
      expect(() => {
        context = parseCallContext(`call_${run}`, headers);
      }).not.toThrow();
      for (const field of [context?.callerNumber, context?.dialledNumber, context?.forwardedFrom]) {
        if (field !== undefined) expect(field).toMatch(E164);
      }
      expect(context?.sipHeaders.every((header) => header.value.length <= 1024)).toBe(true);
    }
  });

  it('round-trips random valid numbers through sip and tel URIs', () => {
    const random = prng(42);
    for (let run = 0; run < 500; run++) {
      const digits = 8 + Math.floor(random() * 8);
      let number = `+${1 + Math.floor(random() * 9)}`;
      while (number.length < digits + 1) number += String(Math.floor(random() * 10));
      expect(toE164(`"${number}" <sip:${number}@h;user=phone>;tag=1`)).toBe(number);
      expect(toE164(`<tel:${number.replace(/(\d{3})/g, '$1-')}>`)).toBe(number);
    }
  });
});
