import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { loadTenantsFile, environmentProfile, type LoadedTenants } from './load-tenants-file.js';
import { describeMatch, TenantDirectory, type MatchedBy, type TenantProfile } from './tenant-directory.js';
import { tenantsConfig } from './tenants.config.js';
import { describeProblem, type TenantsFileError } from './tenants.errors.js';
import { AgentProfiles, type AgentProfile } from '#calls';
import type { ConfigType } from '#config';
import type { CallContext } from '#events';
import { Notifications } from '#notifications';
import { Clock, errorMessage, systemClock, type Timer } from '#resilience';
import { ToolRegistry } from '#tools';

/** Editors and Kubernetes replace a file in several steps (write, rename, symlink swap): one reload per burst. */
const RELOAD_DEBOUNCE_MS = 200;
/** Directories watched at most (the tenants file's, and those of the files it names). */
const MAX_WATCHED_DIRECTORIES = 32;

/** What answers a call: an agent profile, or a rejection with this SIP status. */
export type ProfileChoice =
  | { kind: 'accept'; profile: AgentProfile; matchedBy: MatchedBy }
  | { kind: 'reject'; statusCode: 486 | 603 };

/** What a reload did. */
export type ReloadOutcome =
  | { kind: 'applied'; profiles: string[] }
  | { kind: 'unchanged' }
  | { kind: 'rejected'; error: TenantsFileError }
  | { kind: 'no_file' };

interface Snapshot extends LoadedTenants {
  /** Notification destination ids by profile name (profiles with their own destinations only). */
  notify: ReadonlyMap<string, string[]>;
}

/**
 * Per-number agents: which profile answers a call, from its SIP headers, as TENANTS_FILE describes (the
 * environment's agent answers everything when there is none). The file is validated before it is used: at start-up
 * an invalid one stops the service; later, it is reloaded when it changes (or on SIGHUP), and an invalid version is
 * refused with a logged error while the profiles in use stay. A call keeps the profile it was accepted with.
 */
@Injectable()
export class TenantProfiles implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(TenantProfiles.name);
  private snapshot!: Snapshot;
  /** One watcher per directory: replacing a file (rename, symlink swap) is only seen from its directory. */
  private readonly watchers = new Map<string, FSWatcher>();
  /** Directory → names of the files the last load attempt read there (a change to one of them reloads). */
  private watchedNames = new Map<string, Set<string>>();
  private readonly unwatchable = new Set<string>();
  private debounce?: Timer;
  /** The fingerprint of the last refused version, so that it is reported once, not on every unrelated event. */
  private refusedFingerprint?: string;
  private reloadWaiters: Array<(outcome: ReloadOutcome) => void> = [];
  private readonly onHangup = () => {
    this.logger.log('SIGHUP: reloading the tenants file');
    this.reload({ explicit: true });
  };

  constructor(
    @Inject(tenantsConfig.KEY) private readonly config: ConfigType<typeof tenantsConfig>,
    private readonly agents: AgentProfiles,
    private readonly tools: ToolRegistry,
    private readonly notifications: Notifications,
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Loads the profiles; throws `TenantsFileError` on an invalid file, so the service does not start. Runs after the
   * tool registry has found every tool (ToolsModule is imported, hence initialised first), and before undelivered
   * notifications are resumed (so that a profile's own Discord webhooks have their queues).
   */
  onModuleInit(): void {
    const file = this.config.file;
    if (file === undefined) {
      this.snapshot = { directory: TenantDirectory.single(environmentProfile(this.base())), fingerprint: '', files: [], notify: new Map() };
    } else {
      const result = this.load(file);
      if (!result.ok) {
        this.onModuleDestroy();
        throw result.error;
      }
      this.snapshot = result.snapshot;
      this.report('loaded', result.snapshot);
    }
    process.on('SIGHUP', this.onHangup);
  }

  onModuleDestroy(): void {
    process.off('SIGHUP', this.onHangup);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    this.clock.clearTimeout(this.debounce);
  }

  /** Names of the profiles in use (the default profile last). */
  get profileNames(): string[] {
    return [...this.snapshot.directory.profiles.keys(), this.snapshot.directory.fallback.agent.name];
  }

  /** Chooses the agent for a call (or its rejection), from the profiles in use right now. */
  choose(context: CallContext): ProfileChoice {
    const { directory, notify } = this.snapshot;
    const choice = directory.choose(context);
    const { callId } = context;
    if (choice.kind === 'reject') {
      this.logger.log(`[${callId}] no profile matches this call: rejecting with SIP ${choice.statusCode}`);
      return choice;
    }
    const { agent } = choice.profile;
    if (this.config.file !== undefined) this.logger.log(`[${callId}] profile ${agent.name} (${describeMatch(choice.matchedBy)})`);
    const destinations = notify.get(agent.name);
    return { kind: 'accept', profile: destinations ? { ...agent, notify: destinations } : agent, matchedBy: choice.matchedBy };
  }

  /**
   * Reads the tenants file again. A valid version applies to calls accepted from now on; an invalid one is logged
   * (once per version, unless `explicit`: someone asked) and the profiles in use stay.
   */
  reload({ explicit = false }: { explicit?: boolean } = {}): ReloadOutcome {
    const outcome = this.reloadOnce(explicit);
    const waiters = this.reloadWaiters;
    this.reloadWaiters = [];
    waiters.forEach((resolve) => resolve(outcome));
    return outcome;
  }

  /** Resolves with the outcome of the next reload (a file change, SIGHUP, or `reload()`). */
  nextReload(): Promise<ReloadOutcome> {
    return new Promise((resolve) => this.reloadWaiters.push(resolve));
  }

  private reloadOnce(explicit: boolean): ReloadOutcome {
    const file = this.config.file;
    if (file === undefined) {
      this.logger.log('no TENANTS_FILE is set: nothing to reload');
      return { kind: 'no_file' };
    }
    const result = this.load(file);
    if (!result.ok) {
      if (explicit || result.fingerprint !== this.refusedFingerprint) {
        this.logger.error(
          `the new tenants file was refused, the profiles in use stay (${this.profileNames.join(', ')}):\n` +
            result.error.problems.map((p) => `  - ${describeProblem(p)}`).join('\n'),
        );
      }
      this.refusedFingerprint = result.fingerprint;
      return { kind: 'rejected', error: result.error };
    }
    this.refusedFingerprint = undefined;
    if (result.snapshot.fingerprint === this.snapshot.fingerprint) {
      if (explicit) this.logger.log('the tenants file is unchanged: the profiles in use stay');
      return { kind: 'unchanged' };
    }
    this.snapshot = result.snapshot;
    this.report('reloaded', result.snapshot);
    return { kind: 'applied', profiles: this.profileNames };
  }

  /** The environment's agent, offering every enabled tool. */
  private base(): AgentProfile {
    return this.agents.defaultProfile(this.tools.schemas());
  }

  private load(file: string): { ok: true; snapshot: Snapshot } | { ok: false; error: TenantsFileError; fingerprint: string } {
    const result = loadTenantsFile(file, { base: this.base(), tools: this.tools, knowledgeMaxChars: this.config.knowledgeMaxChars });
    this.watch([file, ...result.files]);
    if (!result.ok) return result;
    // Destinations are registered only once the file is known to be good.
    const notify = new Map<string, string[]>();
    for (const profile of [...result.directory.profiles.values(), result.directory.fallback]) {
      const own = profile.notifications;
      if (!own) continue;
      const ids = own.discord.map((url) => this.notifications.discordDestination(url));
      notify.set(profile.agent.name, [...new Set([...ids, ...(own.includeDefault ? this.notifications.defaultDestinations : [])])]);
    }
    return { ok: true, snapshot: { ...result, notify } };
  }

  /** One line per profile: what it matches, offers and knows (never a number or a webhook URL). */
  private report(verb: 'loaded' | 'reloaded', { directory, notify }: Snapshot): void {
    const unmatched = directory.unmatched.action === 'reject' ? `rejected with SIP ${directory.unmatched.status}` : 'answered by the default profile';
    this.logger.log(
      `tenant profiles ${verb} from ${this.config.file}${verb === 'reloaded' ? ' (calls in progress keep theirs)' : ''}: ` +
        `${directory.profiles.size} profile(s); unmatched calls are ${unmatched}` +
        (directory.tenantHeader ? `; tenant header ${directory.tenantHeader}` : ''),
    );
    for (const profile of [...directory.profiles.values(), directory.fallback]) {
      this.logger.log(`  ${describeProfile(profile, notify.get(profile.agent.name), this.notifications, this.config.knowledgeMaxChars)}`);
    }
  }

  /** Watches the directories of these files (and stops watching those no longer needed). */
  private watch(files: string[]): void {
    const wanted = new Map<string, Set<string>>();
    for (const path of files) {
      const names = wanted.get(dirname(path)) ?? new Set<string>();
      names.add(basename(path));
      wanted.set(dirname(path), names);
    }
    this.watchedNames = wanted;
    for (const [directory, watcher] of this.watchers) {
      if (wanted.has(directory)) continue;
      watcher.close();
      this.watchers.delete(directory);
    }
    for (const directory of wanted.keys()) {
      if (this.watchers.has(directory) || this.unwatchable.has(directory)) continue;
      if (this.watchers.size >= MAX_WATCHED_DIRECTORIES) break;
      this.watchDirectory(directory);
    }
  }

  private watchDirectory(directory: string): void {
    const fallback = 'changes there are noticed on SIGHUP only';
    try {
      const watcher = watch(directory, { persistent: false }, (_event, changed) => {
        const name = changed?.toString();
        // `..data` and friends: a Kubernetes ConfigMap swaps a symlinked directory.
        if (name && !name.startsWith('..') && !this.watchedNames.get(directory)?.has(name)) return;
        this.clock.clearTimeout(this.debounce);
        this.debounce = this.clock.setTimeout(() => this.reload(), RELOAD_DEBOUNCE_MS);
      });
      watcher.on('error', (error) => {
        this.logger.warn(`watching ${directory} failed (${error.message}): ${fallback}`);
        watcher.close();
        this.watchers.delete(directory);
        this.unwatchable.add(directory);
      });
      this.watchers.set(directory, watcher);
    } catch (error) {
      this.unwatchable.add(directory);
      this.logger.warn(`cannot watch ${directory} (${(error as NodeJS.ErrnoException).code ?? errorMessage(error)}): ${fallback}`);
    }
  }
}

function describeProfile(profile: TenantProfile, notify: string[] | undefined, notifications: Notifications, cap: number): string {
  const { agent, match, knowledge } = profile;
  const matches = [
    match.dialled.length > 0 ? `${match.dialled.length} dialled number(s)` : '',
    match.forwardedFrom.length > 0 ? `${match.forwardedFrom.length} forwarded-from number(s)` : '',
    match.header.length > 0 ? `${match.header.length} header value(s)` : '',
  ].filter(Boolean);
  const parts = [
    matches.length > 0 ? `matches ${matches.join(', ')}` : 'answers unmatched calls',
    `model ${agent.model}, voice ${agent.voice}`,
    `tools ${agent.tools.map((t) => t.name).join(', ') || 'none'}`,
    `knowledge ${knowledge.snippets} snippet(s), ${knowledge.characters.toLocaleString('en')} of ${cap.toLocaleString('en')} characters`,
  ];
  if (agent.transfer) parts.push('its own transfer target');
  if (notify) parts.push(`notifications to ${notify.map((id) => notifications.labelOf(id) ?? id).join(', ') || 'nowhere'}`);
  return `${agent.name}: ${parts.join('; ')}`;
}
