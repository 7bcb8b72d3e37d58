import type { AgentProfile } from '#calls';
import { headerValues } from '#calls';
import type { CallContext } from '#events';
import type { TenantsFileProblem } from './tenants.errors.js';

/** What a call is matched by, most specific first: that order decides when a call matches profiles by two. */
export type MatchedBy = 'header' | 'forwarded_from' | 'dialled' | 'unmatched';

/** How a profile is recognised; numbers are E.164. */
export interface MatchRules {
  dialled: string[];
  forwardedFrom: string[];
  header: string[];
}

/** One profile, ready to answer calls. */
export interface TenantProfile {
  /** Everything the accept needs (without notification destinations: the service adds their ids). */
  agent: AgentProfile;
  match: MatchRules;
  /** The profile's own Discord webhooks (secrets); absent: the deployment's default destinations. */
  notifications?: { discord: string[]; includeDefault: boolean };
  knowledge: { snippets: number; characters: number };
}

export type UnmatchedPolicy = { action: 'default' } | { action: 'reject'; status: 486 | 603 };

export type TenantChoice =
  | { kind: 'profile'; profile: TenantProfile; matchedBy: MatchedBy }
  | { kind: 'reject'; statusCode: 486 | 603 };

export interface TenantDirectorySpec {
  /** The SIP header whose value names a profile. */
  tenantHeader?: string;
  unmatched: UnmatchedPolicy;
  /** Profiles by name (the file's; without a file, none). */
  profiles: ReadonlyMap<string, TenantProfile>;
  /** Answers calls no profile matches (unless they are rejected): the file's `default` profile, or the environment's. */
  fallback: TenantProfile;
}

const KIND_LABEL: Record<Exclude<MatchedBy, 'unmatched'>, string> = {
  dialled: 'dialled number',
  forwarded_from: 'forwarded-from number',
  header: 'header value',
};

/**
 * The profiles of one version of the tenants file, indexed for matching. Immutable: a reload builds a new one, so a
 * call always sees one version whole. Each number and header value belongs to one profile at most (checked when it
 * is built); a call that matches profiles by different kinds of key gets the most specific: its tenant header, then
 * the number it was forwarded from, then the number it dialled.
 */
export class TenantDirectory {
  private constructor(
    private readonly spec: TenantDirectorySpec,
    private readonly byKind: Record<Exclude<MatchedBy, 'unmatched'>, ReadonlyMap<string, TenantProfile>>,
  ) {}

  /** Indexes the profiles; any key claimed by two profiles is reported (the directory is then not built). */
  static build(spec: TenantDirectorySpec): { directory?: TenantDirectory; problems: TenantsFileProblem[] } {
    const problems: TenantsFileProblem[] = [];
    const index = (kind: Exclude<MatchedBy, 'unmatched'>, field: keyof MatchRules) => {
      const owners = new Map<string, TenantProfile>();
      for (const [name, profile] of spec.profiles) {
        for (const key of new Set(profile.match[field])) {
          const owner = owners.get(key);
          if (owner === undefined) {
            owners.set(key, profile);
          } else {
            // Which number is not said: phone numbers stay out of logs.
            problems.push({
              profile: name,
              field: `match.${field}`,
              message: `a ${KIND_LABEL[kind]} is also matched by profile "${owner.agent.name}": each may belong to one profile only`,
            });
          }
        }
      }
      return owners;
    };
    const byKind = {
      dialled: index('dialled', 'dialled'),
      forwarded_from: index('forwarded_from', 'forwardedFrom'),
      header: index('header', 'header'),
    };
    if (byKind.header.size > 0 && spec.tenantHeader === undefined) {
      problems.push({ field: 'tenantHeader', message: 'must be set (e.g. X-Tenant) when a profile matches by header' });
    }
    return problems.length > 0 ? { problems } : { directory: new TenantDirectory(spec, byKind), problems };
  }

  /** Every call answered by one profile: the environment's agent when there is no tenants file. */
  static single(profile: TenantProfile): TenantDirectory {
    return TenantDirectory.build({ unmatched: { action: 'default' }, profiles: new Map(), fallback: profile }).directory!;
  }

  get profiles(): ReadonlyMap<string, TenantProfile> {
    return this.spec.profiles;
  }

  get fallback(): TenantProfile {
    return this.spec.fallback;
  }

  get unmatched(): UnmatchedPolicy {
    return this.spec.unmatched;
  }

  get tenantHeader(): string | undefined {
    return this.spec.tenantHeader;
  }

  /** The profile that answers this call, or the rejection the file asks for. SIP data is only read, never trusted. */
  choose(context: CallContext): TenantChoice {
    const header = this.spec.tenantHeader === undefined ? undefined : firstValue(context, this.spec.tenantHeader);
    const candidates: Array<[Exclude<MatchedBy, 'unmatched'>, string | undefined]> = [
      ['header', header],
      ['forwarded_from', context.forwardedFrom],
      ['dialled', context.dialledNumber],
    ];
    for (const [kind, key] of candidates) {
      const profile = key === undefined ? undefined : this.byKind[kind].get(key);
      if (profile) return { kind: 'profile', profile, matchedBy: kind };
    }
    const { unmatched } = this.spec;
    if (unmatched.action === 'reject') return { kind: 'reject', statusCode: unmatched.status };
    return { kind: 'profile', profile: this.spec.fallback, matchedBy: 'unmatched' };
  }
}

/** The first non-empty value of a header (a repeated header is caller-controlled: the first one counts). */
function firstValue(context: CallContext, name: string): string | undefined {
  for (const value of headerValues(context.sipHeaders, name)) {
    const trimmed = value.trim();
    if (trimmed.length > 0) return trimmed;
  }
  return undefined;
}

export function describeMatch(matchedBy: MatchedBy): string {
  return matchedBy === 'unmatched' ? 'no profile matched' : `matched by ${KIND_LABEL[matchedBy]}`;
}
