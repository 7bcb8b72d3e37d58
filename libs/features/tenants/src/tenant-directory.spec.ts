import { describe, expect, it } from '@jest/globals';
import { environmentProfile } from './load-tenants-file.js';
import { TenantDirectory, type TenantChoice } from './tenant-directory.js';
import { ENVIRONMENT_AGENT, load } from './testing/tenant-fixtures.js';
import { parseCallContext, type SipHeader } from '#calls';

function directoryOf(yaml: string): TenantDirectory {
  const { result } = load(yaml);
  if (!result.ok) throw result.error;
  return result.directory;
}

const h = (name: string, value: string): SipHeader => ({ name, value });

/** A call as OpenAI reports it: From, To and whatever else. */
function call(to: string, ...more: SipHeader[]) {
  return parseCallContext('rtc_test', [h('From', '"Caller" <sip:+14155550123@sip.example.com>;tag=1'), h('To', to), ...more]);
}

const nameOf = (choice: TenantChoice) => (choice.kind === 'profile' ? `${choice.profile.agent.name}/${choice.matchedBy}` : `reject ${choice.statusCode}`);

const TWO_TENANTS = `
tenantHeader: X-Tenant
profiles:
  acme:
    match:
      dialled: ["+1 (800) 555-1212", "tel:+44-20-7183-8750", "0033 1 23 45 67 89"]
  globex:
    match:
      dialled: "+18005553434"
      forwardedFrom: ["+14155550999"]
      header: [globex]
`;

describe('matching a call to its profile', () => {
  it('compares numbers in E.164, however the file and the INVITE write them', () => {
    const directory = directoryOf(TWO_TENANTS);
    expect(nameOf(directory.choose(call('<sip:+18005551212@sip.example.com>')))).toBe('acme/dialled');
    expect(nameOf(directory.choose(call('<sip:+1-800-555-1212@sip.example.com;user=phone>;tag=9')))).toBe('acme/dialled');
    expect(nameOf(directory.choose(call('<tel:+442071838750>')))).toBe('acme/dialled');
    expect(nameOf(directory.choose(call('<sip:0033123456789@carrier.example>')))).toBe('acme/dialled');
    expect(nameOf(directory.choose(call('"Sales" <sip:%2B18005553434@h>')))).toBe('globex/dialled');
  });

  it('does not guess a country for a number without + or 00: the call is unmatched', () => {
    const directory = directoryOf(TWO_TENANTS);
    expect(nameOf(directory.choose(call('<sip:18005551212@sip.example.com>')))).toBe('default/unmatched');
    expect(nameOf(directory.choose(call('<sip:+18005559999@sip.example.com>')))).toBe('default/unmatched');
  });

  it('answers a forwarded call by the number it was forwarded from (Diversion), before the number dialled', () => {
    const directory = directoryOf(TWO_TENANTS);
    const forwarded = call('<sip:+18005551212@h>', h('Diversion', '<sip:+1 415 555 0999@carrier.example>;reason=unconditional'));
    expect(nameOf(directory.choose(forwarded))).toBe('globex/forwarded_from');
  });

  it('reads the forwarded-from number from History-Info too', () => {
    const directory = directoryOf(TWO_TENANTS);
    const forwarded = call(
      '<sip:+18005551212@h>',
      h('History-Info', '<sip:+14155550999@carrier.example>;index=1, <sip:+18005551212@h>;index=1.1'),
    );
    expect(nameOf(directory.choose(forwarded))).toBe('globex/forwarded_from');
  });

  it('falls back to the dialled number when the forwarding number belongs to no profile', () => {
    const directory = directoryOf(TWO_TENANTS);
    const forwarded = call('<sip:+18005551212@h>', h('Diversion', '<sip:+14155550000@carrier.example>'));
    expect(nameOf(directory.choose(forwarded))).toBe('acme/dialled');
  });

  it('matches the tenant header by name case-insensitively, its first non-empty value exactly, before any number', () => {
    const directory = directoryOf(TWO_TENANTS);
    expect(nameOf(directory.choose(call('<sip:+18005551212@h>', h('x-tenant', ' globex '))))).toBe('globex/header');
    expect(nameOf(directory.choose(call('<sip:+18005551212@h>', h('X-TENANT', ''), h('X-Tenant', 'globex'), h('X-Tenant', 'acme'))))).toBe(
      'globex/header',
    );
    // Values are compared exactly: an unknown value falls through to the numbers.
    expect(nameOf(directory.choose(call('<sip:+18005551212@h>', h('X-Tenant', 'GLOBEX'))))).toBe('acme/dialled');
    // Another header with the right value does not count.
    expect(nameOf(directory.choose(call('<sip:+18005559999@h>', h('X-Customer', 'globex'))))).toBe('default/unmatched');
  });

  it('answers unmatched calls with the environment agent, or with the profile named default', () => {
    expect(directoryOf(TWO_TENANTS).choose(call('<sip:+18005559999@h>'))).toMatchObject({
      kind: 'profile',
      profile: { agent: { name: 'default', instructions: 'You are the environment agent.' } },
    });
    const withDefault = directoryOf(`${TWO_TENANTS}\n  default:\n    voice: sage\n`);
    const choice = withDefault.choose(call('<sip:+18005559999@h>'));
    expect(choice).toMatchObject({ kind: 'profile', matchedBy: 'unmatched', profile: { agent: { name: 'default', voice: 'sage' } } });
  });

  it('rejects unmatched calls with the configured SIP status when the file says so', () => {
    expect(nameOf(directoryOf(`unmatched: { action: reject, status: 486 }\n${TWO_TENANTS}`).choose(call('<sip:+18005559999@h>')))).toBe('reject 486');
    expect(nameOf(directoryOf(`unmatched: { action: reject }\n${TWO_TENANTS}`).choose(call('<sip:+18005559999@h>')))).toBe('reject 603');
    // A call without a readable To is unmatched too.
    expect(nameOf(directoryOf(`unmatched: { action: reject }\n${TWO_TENANTS}`).choose(call('garbage')))).toBe('reject 603');
  });

  it('without a tenants file, answers every call with the environment agent', () => {
    const directory = TenantDirectory.single(environmentProfile(ENVIRONMENT_AGENT));
    expect(nameOf(directory.choose(call('<sip:+18005551212@h>', h('X-Tenant', 'acme'))))).toBe('default/unmatched');
  });
});

describe('ambiguity is a configuration error found at load time', () => {
  const problemsOf = (yaml: string) => {
    const { result } = load(yaml);
    if (result.ok) throw new Error('expected the file to be refused');
    return result.error.problems;
  };

  it('refuses a dialled number claimed by two profiles, even written differently, naming both and the field', () => {
    const problems = problemsOf(`
profiles:
  acme: { match: { dialled: ["+18005551212"] } }
  globex: { match: { dialled: ["+1 800-555-1212"] } }
`);
    expect(problems).toEqual([
      { profile: 'globex', field: 'match.dialled', message: expect.stringContaining('also matched by profile "acme"') },
    ]);
    expect(JSON.stringify(problems)).not.toContain('555');
  });

  it('refuses a forwarded-from number or a header value claimed by two profiles', () => {
    expect(
      problemsOf(`
profiles:
  acme: { match: { forwardedFrom: ["+14155550999"] } }
  globex: { match: { forwardedFrom: ["00 1 415 555 0999"] } }
`),
    ).toEqual([expect.objectContaining({ profile: 'globex', field: 'match.forwardedFrom' })]);
    expect(
      problemsOf(`
tenantHeader: X-Tenant
profiles:
  acme: { match: { header: [shared] } }
  globex: { match: { header: [" shared"] } }
`),
    ).toEqual([expect.objectContaining({ profile: 'globex', field: 'match.header' })]);
  });

  it('allows one number dialled for one profile and forwarded-from for another: the forwarding is more specific', () => {
    const directory = directoryOf(`
profiles:
  shared-line: { match: { dialled: ["+18005551212"] } }
  customer: { match: { forwardedFrom: ["+18005551212"] } }
`);
    expect(nameOf(directory.choose(call('<sip:+18005551212@h>')))).toBe('shared-line/dialled');
    expect(nameOf(directory.choose(call('<sip:+18005550000@h>', h('Diversion', '<sip:+18005551212@h>'))))).toBe('customer/forwarded_from');
  });

  it('allows the same number twice in one profile', () => {
    expect(() => directoryOf(`profiles:\n  acme: { match: { dialled: ["+18005551212", "+1 800 555 1212"] } }\n`)).not.toThrow();
  });
});
