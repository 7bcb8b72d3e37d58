import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { loadTenantsFile, type LoadResult } from './load-tenants-file.js';
import { describeProblem, type TenantsFileProblem } from './tenants.errors.js';
import { CATALOG, ENVIRONMENT_AGENT, load } from './testing/tenant-fixtures.js';

const WEBHOOK = 'https://discord.com/api/webhooks/123456789/very-secret-token';

function problemsOf(yaml: string, files: Record<string, string> = {}, cap?: number): TenantsFileProblem[] {
  const { result } = load(yaml, files, cap);
  if (result.ok) throw new Error('expected the file to be refused');
  return result.error.problems;
}

function profilesOf(yaml: string, files: Record<string, string> = {}) {
  const { result } = load(yaml, files);
  if (!result.ok) throw result.error;
  return result.directory;
}

const agentOf = (yaml: string, name: string, files: Record<string, string> = {}) => {
  const directory = profilesOf(yaml, files);
  return (name === 'default' ? directory.fallback : directory.profiles.get(name)!).agent;
};

describe('validating a tenants file: every problem names its profile and field', () => {
  const cases: Array<[string, string, { profile: string; field: string; message: unknown }]> = [
    ['a voice that is not a voice name', 'voice: Marin Smith', { profile: 'acme', field: 'voice', message: expect.stringContaining('voice name') }],
    ['a misspelt field', 'vioce: cedar', { profile: 'acme', field: 'vioce', message: expect.stringContaining('not a field') }],
    ['an unknown turn detection', 'turnDetection: fast', { profile: 'acme', field: 'turnDetection', message: 'must be semantic_vad or server_vad' }],
    ['a bad language code', 'transcription: { language: english }', { profile: 'acme', field: 'transcription.language', message: expect.any(String) }],
    ['a transfer number that is not E.164', 'transfer: { humanAgentNumber: "4155550100" }', { profile: 'acme', field: 'transfer.humanAgentNumber', message: expect.stringContaining('E.164') }],
    ['a transfer without a target', 'transfer: {}', { profile: 'acme', field: 'transfer', message: 'must have humanAgentNumber or sipUri' }],
    ['a bad SIP URI', 'transfer: { sipUri: "agent at pbx" }', { profile: 'acme', field: 'transfer.sipUri', message: expect.stringContaining('SIP URI') }],
    ['metadata that is a list', 'metadata: [1, 2]', { profile: 'acme', field: 'metadata', message: expect.stringContaining('mapping') }],
    ['a model that is not text', 'model: 42', { profile: 'acme', field: 'model', message: expect.stringContaining('model name') }],
    ['a Discord URL that is not a URL', 'notifications: { discord: "not a url" }', { profile: 'acme', field: 'notifications.discord', message: expect.stringContaining('Discord webhook') }],
    ['includeDefault that is not a boolean', `notifications: { discord: "${WEBHOOK}", includeDefault: sometimes }`, { profile: 'acme', field: 'notifications.includeDefault', message: 'must be true or false' }],
    ['a knowledge snippet with both text and file', 'knowledge: [{ text: "a", file: "b.md" }]', { profile: 'acme', field: 'knowledge[0]', message: expect.stringContaining('one of them') }],
    ['a knowledge snippet with an unknown field', 'knowledge: [{ txt: "a" }]', { profile: 'acme', field: 'knowledge[0].txt', message: expect.stringContaining('not a field') }],
    ['a knowledge file that does not exist', 'knowledge: [{ file: missing.md }]', { profile: 'acme', field: 'knowledge[0].file', message: expect.stringContaining('cannot be read') }],
    ['an instructions file that does not exist', 'instructionsFile: prompts/acme.md', { profile: 'acme', field: 'instructionsFile', message: expect.stringContaining('cannot be read') }],
    ['instructions inline and from a file', 'instructions: Hi\n    instructionsFile: acme.md', { profile: 'acme', field: 'instructions', message: 'set instructions or instructionsFile, not both' }],
    ['empty instructions', 'instructions: "  "', { profile: 'acme', field: 'instructions', message: 'must not be empty' }],
    ['an unknown tool', 'tools: [end_call, lookp_order]', { profile: 'acme', field: 'tools', message: expect.stringMatching(/no tool is called "lookp_order" \(the tools: echo, end_call, lookup_order, transfer_to_human\)/) }],
    ['a tool switched off by TOOLS_DISABLED', 'tools: [echo]', { profile: 'acme', field: 'tools', message: 'echo cannot be offered: it is switched off by TOOLS_DISABLED' }],
    ['a tool this deployment does not configure', 'tools: [lookup_order]', { profile: 'acme', field: 'tools', message: expect.stringContaining('lookup_order cannot be offered: it is off') }],
    ['transfer_to_human without any transfer target', 'tools: [transfer_to_human]', { profile: 'acme', field: 'tools', message: expect.stringContaining('needs a transfer target') }],
  ];

  it.each(cases)('%s', (_label, line, expected) => {
    const problems = problemsOf(`profiles:\n  acme:\n    match: { dialled: "+18005551212" }\n    ${line}\n`, { 'acme.md': 'Hello' });
    expect(problems).toEqual([expected]);
    expect(describeProblem(problems[0])).toMatch(new RegExp(`^profile "acme": ${expected.field.replace(/[[\].]/g, '\\$&')}: `));
  });

  it('tells a person who wrote a number without quotes why it is refused', () => {
    const problems = problemsOf('profiles:\n  acme:\n    match: { dialled: [+18005551212] }\n');
    expect(problems).toEqual([{ profile: 'acme', field: 'match.dialled', message: expect.stringMatching(/^must be quoted phone numbers/) }]);
  });

  it('refuses numbers that are not E.164 without repeating them', () => {
    const problems = problemsOf('profiles:\n  acme:\n    match: { dialled: ["+18005551212", "8005551213"], forwardedFrom: "call me" }\n');
    expect(problems.map((p) => p.field)).toEqual(['match.dialled', 'match.forwardedFrom']);
    expect(JSON.stringify(problems)).not.toMatch(/8005551213|call me/);
  });

  it('reports the problems of every profile at once', () => {
    const problems = problemsOf(`
profiles:
  acme:
    match: { dialled: "+18005551212" }
    voice: "!"
  globex:
    match: { dialled: "+18005553434" }
    turnDetection: eager
    tools: [nope]
`);
    expect(problems.map((p) => `${p.profile}.${p.field}`)).toEqual(['acme.voice', 'globex.turnDetection', 'globex.tools']);
  });

  it('refuses a profile that matches nothing, and a default profile that matches something', () => {
    expect(problemsOf('profiles:\n  acme: { voice: cedar }\n')).toEqual([
      { profile: 'acme', field: 'match', message: expect.stringContaining('at least one') },
    ]);
    expect(problemsOf('profiles:\n  default: { match: { dialled: "+18005551212" } }\n')).toEqual([
      { profile: 'default', field: 'match', message: expect.stringContaining('cannot match anything') },
    ]);
  });

  it('refuses header matches without a tenantHeader, and a bad tenantHeader', () => {
    expect(problemsOf('profiles:\n  acme: { match: { header: [acme] } }\n')).toEqual([{ field: 'tenantHeader', message: expect.stringContaining('must be set') }]);
    expect(problemsOf('tenantHeader: "X Tenant"\nprofiles:\n  acme: { match: { header: [acme] } }\n')).toEqual([
      { field: 'tenantHeader', message: expect.stringContaining('header name') },
    ]);
  });

  it('checks the file itself: the unmatched policy, the profiles mapping, profile names, unknown top-level fields', () => {
    const ok = 'profiles:\n  acme: { match: { dialled: "+18005551212" } }\n';
    expect(problemsOf(`unmatched: { action: reject, status: 404 }\n${ok}`)).toEqual([
      { field: 'unmatched.status', message: 'must be 486 (Busy Here) or 603 (Decline)' },
    ]);
    expect(problemsOf(`unmatched: { action: hangup }\n${ok}`)).toEqual([{ field: 'unmatched.action', message: 'must be default or reject' }]);
    expect(problemsOf(`unmatched: { action: default, status: 486 }\n${ok}`)).toEqual([{ field: 'unmatched.status', message: 'is only used with action: reject' }]);
    expect(problemsOf(`profile:\n  acme: {}\n`)).toEqual(
      expect.arrayContaining([{ field: 'profile', message: expect.stringContaining('not a field') }, { field: 'profiles', message: expect.any(String) }]),
    );
    expect(problemsOf('profiles: {}\n')).toEqual([{ field: 'profiles', message: 'must name at least one profile' }]);
    expect(problemsOf('profiles:\n  "acme corp": { match: { dialled: "+18005551212" } }\n')).toEqual([
      { field: 'profiles', message: expect.stringContaining('profile #1 has an invalid name') },
    ]);
    expect(problemsOf('profiles:\n  acme: cedar\n')).toEqual([{ profile: 'acme', message: expect.stringContaining('must be a mapping') }]);
  });

  it('reports YAML errors with their line, and never quotes the line (it may hold a webhook URL)', () => {
    const problems = problemsOf(`profiles:\n  acme:\n    notifications: { discord: [${WEBHOOK}\n    voice: cedar\n`);
    expect(problems[0].message).toMatch(/^not valid YAML at line \d+, column \d+/);
    expect(JSON.stringify(problems)).not.toContain('very-secret-token');
    expect(problemsOf('profiles:\n  acme: {}\n  acme: {}\n')[0].message).toMatch(/line 3.*unique/);
    expect(problemsOf('')).toEqual([{ message: expect.stringContaining('must be a mapping') }]);
    expect(problemsOf('- a\n- b\n')).toEqual([{ message: expect.stringContaining('must be a mapping') }]);
  });

  it('accepts JSON', () => {
    const directory = profilesOf(JSON.stringify({ profiles: { acme: { match: { dialled: ['+18005551212'] }, voice: 'cedar' } } }));
    expect(directory.profiles.get('acme')!.agent.voice).toBe('cedar');
  });

  it('reports a file that cannot be read', () => {
    const { dir } = load('profiles: {}\n');
    const result = loadTenantsFile(join(dir, 'nope.yaml'), { base: ENVIRONMENT_AGENT, tools: CATALOG, knowledgeMaxChars: 1000 });
    expect(result.ok).toBe(false);
    expect((result as Extract<LoadResult, { ok: false }>).error.message).toMatch(/nope\.yaml:\n {2}- cannot be read \(ENOENT\)/);
  });

  it('never puts a webhook URL or a phone number in a message', () => {
    const problems = problemsOf(`
profiles:
  acme:
    match: { dialled: ["+18005551212", "+1800555121"] }
    notifications: { discord: ["${WEBHOOK}", "ftp://${WEBHOOK.slice(8)}"] }
`);
    expect(problems.length).toBeGreaterThan(0);
    const text = JSON.stringify(problems);
    expect(text).not.toContain('very-secret-token');
    expect(text).not.toContain('555');
  });
});

describe('building profiles', () => {
  const FILE = `
profiles:
  acme:
    match: { dialled: "+18005551212" }
    instructionsFile: prompts/acme.md
    knowledge:
      - title: Opening hours
        text: Monday to Friday, 9 to 5.
      - file: returns.md
      - Orders ship within two days.
    voice: cedar
    welcomeMessage: Thanks for calling Acme!
    transcription: { language: de }
    turnDetection: server_vad
    tools: [transfer_to_human]
    transfer: { humanAgentNumber: "+1 415 555 0100" }
    metadata: { customer: acme, plan: gold, seats: 12 }
  globex:
    match: { dialled: "+18005553434" }
`;
  const files = { 'returns.md': 'Returns are free within 30 days.\n' };

  it('appends the knowledge to the instructions under a heading, files read relative to the tenants file', () => {
    const agent = agentOf(FILE.replace('prompts/acme.md', 'acme.md'), 'acme', { ...files, 'acme.md': 'You answer for Acme.\n' });
    expect(agent.instructions).toBe(
      [
        'You answer for Acme.',
        '## Knowledge',
        'Reference material for this line. Use it to answer the caller; if it does not cover a question, say so rather than guess.',
        '### Opening hours\nMonday to Friday, 9 to 5.',
        '### returns.md\nReturns are free within 30 days.',
        'Orders ship within two days.',
      ].join('\n\n'),
    );
  });

  it('sets every field of the profile, and leaves the rest to the environment agent', () => {
    const directory = profilesOf(FILE.replace('prompts/acme.md', 'acme.md'), { ...files, 'acme.md': 'You answer for Acme.' });
    const acme = directory.profiles.get('acme')!;
    expect(acme.agent).toMatchObject({
      name: 'acme',
      model: 'gpt-realtime',
      voice: 'cedar',
      welcomeMessage: 'Thanks for calling Acme!',
      transcription: { model: 'gpt-4o-mini-transcribe', language: 'de' },
      turnDetection: 'server_vad',
      transfer: { humanAgentNumber: '+14155550100' },
      metadata: { customer: 'acme', plan: 'gold', seats: 12 },
    });
    expect(acme.agent.tools.map((t) => t.name)).toEqual(['transfer_to_human']);
    expect(acme.knowledge).toEqual({ snippets: 3, characters: 25 + 32 + 28 });
    expect(acme.match.dialled).toEqual(['+18005551212']);

    const globex = directory.profiles.get('globex')!.agent;
    expect(globex).toEqual({ ...ENVIRONMENT_AGENT, name: 'globex' });
  });

  it('offers a profile every usable tool when it lists none: transfer_to_human too when it has its own target', () => {
    const directory = profilesOf(`
profiles:
  plain: { match: { dialled: "+18005551212" } }
  with-transfer: { match: { dialled: "+18005553434" }, transfer: { sipUri: "sip:desk@pbx.example.com" } }
`);
    expect(directory.profiles.get('plain')!.agent.tools.map((t) => t.name)).toEqual(['end_call']);
    expect(directory.profiles.get('with-transfer')!.agent.tools.map((t) => t.name)).toEqual(['end_call', 'transfer_to_human']);
  });

  it('turns caller transcription off with none, and the greeting off with an empty welcome message', () => {
    const agent = agentOf('profiles:\n  acme: { match: { dialled: "+18005551212" }, transcription: none, welcomeMessage: "" }\n', 'acme');
    expect(agent.transcription).toBeUndefined();
    expect(agent.welcomeMessage).toBeUndefined();
  });

  it("keeps a profile's Discord webhooks apart from its agent, deduplicated", () => {
    const directory = profilesOf(`profiles:\n  acme: { match: { dialled: "+18005551212" }, notifications: { discord: ["${WEBHOOK}", "${WEBHOOK}"] } }\n`);
    const acme = directory.profiles.get('acme')!;
    expect(acme.notifications).toEqual({ discord: [WEBHOOK], includeDefault: false });
    expect(JSON.stringify(acme.agent)).not.toContain('very-secret-token');
  });

  it('refuses knowledge over the cap, saying how much there is', () => {
    const problems = problemsOf(`profiles:\n  acme:\n    match: { dialled: "+18005551212" }\n    knowledge: ["${'x'.repeat(600)}", "${'y'.repeat(600)}"]\n`, {}, 1000);
    expect(problems).toEqual([
      { profile: 'acme', field: 'knowledge', message: 'is 1,200 characters, over the cap of 1,000 (TENANTS_KNOWLEDGE_MAX_CHARS)' },
    ]);
  });

  it('fingerprints the file and the files it refers to', () => {
    const yaml = 'profiles:\n  acme: { match: { dialled: "+18005551212" }, knowledge: [{ file: k.md }] }\n';
    const { dir, path, result } = load(yaml, { 'k.md': 'one' });
    const context = { base: ENVIRONMENT_AGENT, tools: CATALOG, knowledgeMaxChars: 1000 };
    expect(result.ok && loadTenantsFile(path, context).fingerprint).toBe(result.fingerprint);
    writeFileSync(join(dir, 'k.md'), 'two');
    const changed = loadTenantsFile(path, context);
    expect(changed.fingerprint).not.toBe(result.fingerprint);
    expect(changed.files).toEqual([path, join(dir, 'k.md')]);
  });
});
