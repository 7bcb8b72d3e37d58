import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve } from 'node:path';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import type { RealtimeFunctionTool } from 'openai/resources/realtime/realtime';
import { LineCounter, parseDocument } from 'yaml';
import { MAX_TENANTS_FILE_BYTES } from './tenants.config.js';
import { TenantDirectory, type MatchRules, type TenantProfile, type UnmatchedPolicy } from './tenant-directory.js';
import { ProfileDto, TenantsFileDto, type KnowledgeDto } from './tenants-file.dto.js';
import { TenantsFileError, type TenantsFileProblem } from './tenants.errors.js';
import { toE164, type AgentProfile } from '#calls';
import { errorMessage } from '#resilience';

/** The name of the profile that answers unmatched calls, layered over the environment's agent. */
export const DEFAULT_PROFILE = 'default';
/** Profile names: what the records API filter and log lines can carry as they are. */
const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** The largest instructions or knowledge file read. */
const MAX_TEXT_FILE_BYTES = 400 * 1024;
/** Caller transcription model when a profile turns transcription on and the environment has it off. */
const DEFAULT_TRANSCRIPTION_MODEL = 'gpt-4o-mini-transcribe';

/** The tools an application declares, as the tool registry (#tools) lists them. */
export interface ToolCatalog {
  /** Every tool, enabled or not (`disabledBecause`: TOOLS_DISABLED, or its configuration is absent). */
  all(): ReadonlyArray<{ name: string; enabled: boolean; disabledBecause?: string }>;
  /** The named tools as Realtime function tools, sorted by name. */
  schemasOf(names: Iterable<string>): RealtimeFunctionTool[];
}

export interface TenantsFileContext {
  /** The environment's agent (the default profile), offering the enabled tools: every profile starts from it. */
  base: AgentProfile;
  tools: ToolCatalog;
  knowledgeMaxChars: number;
}

export interface LoadedTenants {
  directory: TenantDirectory;
  /** Changes whenever the file or a file it refers to changes. */
  fingerprint: string;
  /** Paths of every file read (the tenants file first), for the directory watcher. */
  files: string[];
}

export type LoadResult =
  | ({ ok: true } & LoadedTenants)
  | { ok: false; error: TenantsFileError; fingerprint: string; files: string[] };

/**
 * Reads, validates and builds a tenants file: every problem is reported at once, each naming its profile and
 * field, and the file is used only when there are none. Never throws.
 */
export function loadTenantsFile(path: string, context: TenantsFileContext): LoadResult {
  const reader = new FileReader(path);
  const problems: TenantsFileProblem[] = [];
  let directory: TenantDirectory | undefined;
  try {
    directory = build(reader, context, problems);
  } catch (error) {
    problems.push({ message: `could not be read: ${errorMessage(error)}` });
  }
  const { fingerprint, files } = reader;
  if (directory && problems.length === 0) return { ok: true, directory, fingerprint, files };
  return { ok: false, error: new TenantsFileError(path, problems), fingerprint, files };
}

function build(reader: FileReader, context: TenantsFileContext, problems: TenantsFileProblem[]): TenantDirectory | undefined {
  const text = reader.tenantsFile(problems);
  if (text === undefined) return undefined;
  const raw = parseYaml(text, problems);
  if (raw === undefined) return undefined;

  const file = plainToInstance(TenantsFileDto, raw);
  problems.push(...flatten(validateSync(file, { whitelist: true, forbidNonWhitelisted: true }), undefined));
  if (typeof file.profiles !== 'object' || file.profiles === null || Array.isArray(file.profiles)) return undefined;

  const entries = Object.entries(file.profiles);
  if (entries.length === 0) problems.push({ field: 'profiles', message: 'must name at least one profile' });
  const profiles = new Map<string, TenantProfile>();
  let position = 0;
  for (const [name, value] of entries) {
    position++;
    if (!PROFILE_NAME.test(name)) {
      // The name is not repeated: it could be anything, pasted by mistake.
      problems.push({
        field: 'profiles',
        message: `profile #${position} has an invalid name (a letter or digit, then letters, digits, - or _; at most 64)`,
      });
      continue;
    }
    const profile = buildProfile(name, value, reader, context, problems);
    if (profile) profiles.set(name, profile);
  }

  const fallback = profiles.get(DEFAULT_PROFILE) ?? environmentProfile(context.base);
  profiles.delete(DEFAULT_PROFILE);
  const unmatched: UnmatchedPolicy =
    file.unmatched?.action === 'reject' ? { action: 'reject', status: file.unmatched.status ?? 603 } : { action: 'default' };
  if (file.unmatched?.action === 'default' && file.unmatched.status !== undefined) {
    problems.push({ field: 'unmatched.status', message: 'is only used with action: reject' });
  }
  // Built even when something is wrong already, for its own checks (ambiguous matches) among the valid profiles.
  const built = TenantDirectory.build({ tenantHeader: file.tenantHeader, unmatched, profiles, fallback });
  problems.push(...built.problems);
  return problems.length > 0 ? undefined : built.directory;
}

/** The environment's agent as the profile of calls no tenant profile matches. */
export function environmentProfile(base: AgentProfile): TenantProfile {
  return { agent: base, match: { dialled: [], forwardedFrom: [], header: [] }, knowledge: { snippets: 0, characters: 0 } };
}

function buildProfile(
  name: string,
  value: unknown,
  reader: FileReader,
  context: TenantsFileContext,
  problems: TenantsFileProblem[],
): TenantProfile | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({ profile: name, message: 'must be a mapping of profile fields (match, instructions, voice …)' });
    return undefined;
  }
  const dto = plainToInstance(ProfileDto, normaliseProfile(value as Record<string, unknown>));
  const before = problems.length;
  const found = flatten(validateSync(dto, { whitelist: true, forbidNonWhitelisted: true }), name);
  problems.push(...found);
  // The checks below look at the fields that are valid so far, so that one pass reports everything.
  const invalid = new Set(found.map((p) => p.field?.split(/[.[]/)[0]));
  const valid = (...fields: string[]) => fields.every((field) => !invalid.has(field));
  const problem = (field: string, message: string) => problems.push({ profile: name, field, message });
  const { base } = context;

  const match: MatchRules = {
    dialled: valid('match') ? (dto.match?.dialled ?? []).map((n) => toE164(n)!) : [],
    forwardedFrom: valid('match') ? (dto.match?.forwardedFrom ?? []).map((n) => toE164(n)!) : [],
    header: valid('match') ? (dto.match?.header ?? []).map((v) => v.trim()) : [],
  };
  const matchCount = match.dialled.length + match.forwardedFrom.length + match.header.length;
  if (!valid('match')) {
    // Already reported.
  } else if (name === DEFAULT_PROFILE && matchCount > 0) {
    problem('match', 'the default profile answers the calls no other profile matches: it cannot match anything itself');
  } else if (name !== DEFAULT_PROFILE && matchCount === 0) {
    problem('match', 'must list at least one dialled number, forwarded-from number or header value (or name the profile default)');
  }

  let instructions: string | undefined = base.instructions;
  if (valid('instructions', 'instructionsFile')) {
    if (dto.instructions !== undefined && dto.instructionsFile !== undefined) {
      problem('instructions', 'set instructions or instructionsFile, not both');
    }
    instructions = dto.instructions?.trim() ?? base.instructions;
    if (dto.instructionsFile !== undefined) instructions = reader.text(dto.instructionsFile, (m) => problem('instructionsFile', m));
    if (instructions === '') problem(dto.instructionsFile !== undefined ? 'instructionsFile' : 'instructions', 'must not be empty');
  }

  const snippets = valid('knowledge') ? knowledgeOf(dto.knowledge ?? [], reader, problem) : [];
  const characters = snippets.reduce((sum, s) => sum + s.text.length, 0);
  if (characters > context.knowledgeMaxChars) {
    problem(
      'knowledge',
      `is ${characters.toLocaleString('en')} characters, over the cap of ${context.knowledgeMaxChars.toLocaleString('en')} (TENANTS_KNOWLEDGE_MAX_CHARS)`,
    );
  }

  const transfer =
    dto.transfer === undefined || !valid('transfer')
      ? undefined
      : {
          ...(dto.transfer.humanAgentNumber !== undefined ? { humanAgentNumber: toE164(dto.transfer.humanAgentNumber)! } : {}),
          ...(dto.transfer.sipUri !== undefined ? { sipUri: dto.transfer.sipUri } : {}),
        };
  if (transfer !== undefined && Object.keys(transfer).length === 0) problem('transfer', 'must have humanAgentNumber or sipUri');

  const tools = valid('tools') ? toolsOf(dto.tools, dto.transfer !== undefined, context, (m) => problem('tools', m)) : [];

  if (valid('notifications') && dto.notifications !== undefined && dto.notifications.discord === undefined) {
    problem('notifications.discord', 'must be set: a Discord webhook URL, a list of them, or [] for none');
  }
  if (problems.length > before) return undefined;

  const welcomeMessage = dto.welcomeMessage === undefined ? base.welcomeMessage : dto.welcomeMessage.trim() || undefined;
  const agent: AgentProfile = {
    name,
    model: dto.model ?? base.model,
    instructions: withKnowledge(instructions!, snippets),
    voice: dto.voice ?? base.voice,
    ...(welcomeMessage !== undefined ? { welcomeMessage } : {}),
    ...transcriptionOf(dto, base),
    turnDetection: dto.turnDetection ?? base.turnDetection,
    tools,
    ...(transfer !== undefined ? { transfer } : {}),
    ...(dto.metadata !== undefined ? { metadata: dto.metadata } : {}),
  };
  return {
    agent,
    match,
    ...(dto.notifications
      ? { notifications: { discord: [...new Set(dto.notifications.discord)], includeDefault: dto.notifications.includeDefault ?? false } }
      : {}),
    knowledge: { snippets: snippets.length, characters },
  };
}

function transcriptionOf(dto: ProfileDto, base: AgentProfile): Pick<AgentProfile, 'transcription'> {
  if (dto.transcription === undefined) return base.transcription ? { transcription: base.transcription } : {};
  if (dto.transcription.model === 'none') return {};
  const language = dto.transcription.language ?? base.transcription?.language;
  return {
    transcription: {
      model: dto.transcription.model ?? base.transcription?.model ?? DEFAULT_TRANSCRIPTION_MODEL,
      ...(language !== undefined ? { language } : {}),
    },
  };
}

/**
 * The tools a profile offers. Listed: exactly those (each must exist and be usable); not listed: every tool usable
 * for it. Usable: enabled in this deployment — or `transfer_to_human` off only for want of a target, when the
 * profile has its own. TOOLS_DISABLED switches a tool off for every profile.
 */
function toolsOf(
  listed: string[] | undefined,
  hasTransferTarget: boolean,
  { tools }: TenantsFileContext,
  problem: (message: string) => void,
): RealtimeFunctionTool[] {
  const known = new Map(tools.all().map((tool) => [tool.name, tool]));
  const whyNot = (tool: { name: string; enabled: boolean; disabledBecause?: string }): string | undefined => {
    if (tool.enabled) return undefined;
    if (tool.disabledBecause === 'TOOLS_DISABLED') return 'it is switched off by TOOLS_DISABLED';
    if (tool.name === 'transfer_to_human') {
      return hasTransferTarget ? undefined : 'it needs a transfer target: give the profile one (transfer), or set HUMAN_AGENT_NUMBER';
    }
    return `it is off in this deployment (${tool.disabledBecause ?? 'not configured'})`;
  };
  if (listed === undefined) return tools.schemasOf([...known.values()].filter((tool) => whyNot(tool) === undefined).map((t) => t.name));

  const names = [...new Set(listed)];
  for (const name of names) {
    const tool = known.get(name);
    if (tool === undefined) {
      const all = [...known.keys()].sort().join(', ') || 'none';
      problem(`no tool is called ${JSON.stringify(name.slice(0, 64))} (the tools: ${all})`);
      continue;
    }
    const reason = whyNot(tool);
    if (reason !== undefined) problem(`${name} cannot be offered: ${reason}`);
  }
  return tools.schemasOf(names);
}

interface Snippet {
  title?: string;
  text: string;
}

function knowledgeOf(items: KnowledgeDto[], reader: FileReader, problem: (field: string, message: string) => void): Snippet[] {
  const snippets: Snippet[] = [];
  items.forEach((item, index) => {
    const field = `knowledge[${index}]`;
    if ((item.text === undefined) === (item.file === undefined)) {
      problem(field, 'must have text or file (one of them)');
      return;
    }
    const text = item.file !== undefined ? reader.text(item.file, (m) => problem(`${field}.file`, m)) : item.text!.trim();
    if (text === undefined) return;
    if (text === '') {
      problem(field, 'must not be empty');
      return;
    }
    const title = item.title?.trim() || (item.file !== undefined ? basename(item.file) : undefined);
    snippets.push({ ...(title ? { title } : {}), text });
  });
  return snippets;
}

/** The instructions, then the knowledge under a heading the model cannot mistake for more instructions. */
export function withKnowledge(instructions: string, snippets: ReadonlyArray<Snippet>): string {
  if (snippets.length === 0) return instructions;
  const sections = snippets.map((s) => (s.title ? `### ${s.title}\n${s.text}` : s.text));
  return [
    instructions,
    '## Knowledge',
    'Reference material for this line. Use it to answer the caller; if it does not cover a question, say so rather than guess.',
    ...sections,
  ].join('\n\n');
}

/** Shorthands a person writes in YAML, expanded to the validated shape (anything else is left to the validator). */
function normaliseProfile(profile: Record<string, unknown>): Record<string, unknown> {
  const listOf = (value: unknown) => (typeof value === 'string' ? [value] : value);
  const out: Record<string, unknown> = { ...profile };
  const match = profile.match;
  if (typeof match === 'object' && match !== null && !Array.isArray(match)) {
    const m = match as Record<string, unknown>;
    out.match = { ...m, ...pick(m, ['dialled', 'forwardedFrom', 'header'], listOf) };
  }
  if (profile.knowledge !== undefined) {
    const items = listOf(profile.knowledge);
    out.knowledge = Array.isArray(items) ? items.map((item) => (typeof item === 'string' ? { text: item } : item)) : items;
  }
  if (profile.transcription === 'none' || profile.transcription === false) out.transcription = { model: 'none' };
  if (typeof profile.tools === 'string') out.tools = [profile.tools];
  const notifications = profile.notifications;
  if (typeof notifications === 'object' && notifications !== null && !Array.isArray(notifications)) {
    const n = notifications as Record<string, unknown>;
    out.notifications = { ...n, ...pick(n, ['discord'], listOf) };
  }
  return out;
}

function pick(object: Record<string, unknown>, keys: string[], map: (value: unknown) => unknown): Record<string, unknown> {
  return Object.fromEntries(keys.filter((key) => object[key] !== undefined).map((key) => [key, map(object[key])]));
}

/** class-validator's errors as problems: the path of each field, its messages, never its value. */
function flatten(errors: ValidationError[], profile: string | undefined, parent = ''): TenantsFileProblem[] {
  return errors.flatMap((error) => {
    const field = /^\d+$/.test(error.property) ? `${parent}[${error.property}]` : parent ? `${parent}.${error.property}` : error.property;
    const constraints = error.constraints ?? {};
    const messages = Object.entries(constraints).map(([name, message]) =>
      name === 'whitelistValidation' ? 'is not a field here (check its spelling)' : name === 'nestedValidation' ? 'must be a mapping' : message,
    );
    const own = messages.length > 0 ? [{ ...(profile !== undefined ? { profile } : {}), field, message: messages.join('; ') }] : [];
    return [...own, ...flatten(error.children ?? [], profile, field)];
  });
}

function parseYaml(text: string, problems: TenantsFileProblem[]): unknown {
  const lineCounter = new LineCounter();
  // No pretty errors: they quote the offending line, which may hold a webhook URL.
  const document = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  if (document.errors.length > 0) {
    for (const error of document.errors.slice(0, 10)) {
      const { line, col } = lineCounter.linePos(error.pos[0]);
      problems.push({ message: `not valid YAML at line ${line}, column ${col}: ${error.message.split('\n')[0]}` });
    }
    return undefined;
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    problems.push({ message: `not valid YAML: ${errorMessage(error).split('\n')[0]}` });
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({ message: 'must be a mapping with profiles (and optionally tenantHeader, unmatched)' });
    return undefined;
  }
  return value;
}

/** Reads the tenants file and the files it names (relative to its directory), fingerprinting all of them. */
class FileReader {
  private readonly hash = createHash('sha256');
  private readonly read: string[] = [];
  private readonly directory: string;

  constructor(private readonly path: string) {
    this.directory = dirname(path);
  }

  get fingerprint(): string {
    return this.hash.copy().digest('hex');
  }

  get files(): string[] {
    return [...this.read];
  }

  tenantsFile(problems: TenantsFileProblem[]): string | undefined {
    return this.readText(this.path, MAX_TENANTS_FILE_BYTES, (message) => problems.push({ message }));
  }

  text(file: string, problem: (message: string) => void): string | undefined {
    const path = isAbsolute(file) ? file : resolve(this.directory, file);
    return this.readText(path, MAX_TEXT_FILE_BYTES, problem)?.trim();
  }

  private readText(path: string, maxBytes: number, problem: (message: string) => void): string | undefined {
    this.read.push(path);
    this.hash.update(`${path}\u0000`);
    let content: Buffer;
    try {
      const stat = statSync(path);
      if (!stat.isFile()) {
        problem('is not a file');
        return undefined;
      }
      if (stat.size > maxBytes) {
        problem(`is larger than ${Math.round(maxBytes / 1024)} KB`);
        return undefined;
      }
      content = readFileSync(path);
    } catch (error) {
      problem(`cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
    this.hash.update(content);
    this.hash.update('\u0000');
    return content.toString('utf8');
  }
}
