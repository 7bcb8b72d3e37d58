import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Logger } from '@nestjs/common';
import { ApplicationConfig, DiscoveryService, MetadataScanner, NestContainer } from '@nestjs/core';
import { DependenciesScanner, Injector, NoopGraphInspector, type InstanceWrapper } from '@nestjs/core/internal';
import type { ToolCatalog } from '#tenants';
import type { RegisteredTool, ToolRegistry } from '#tools';
import type { BuiltService } from './service.js';

export type Environment = Record<string, string>;

/**
 * Values of common shapes (a URL, an E.164 number, a SIP URI, a token, a number, a flag): what stands in for a
 * variable whose value is not known here — one from the Secret, or one whose effect is being tried out. A variable
 * takes the first its own validation accepts.
 */
const SAMPLE_VALUES = [
  'http://validate-deploy.invalid',
  '+14155550123',
  'sip:validate-deploy@validate-deploy.invalid',
  'validate-deploy-placeholder-token',
  '1',
  'true',
];

/** A `registerAs()` configuration factory (what ConfigModule.forFeature provides under its KEY). */
type ConfigFactory = (() => unknown) & { KEY: string };

type Built = { value: unknown } | { problems: string[] } | { failed: string };

/** The application's tools as the service's own ToolRegistry lists them in one environment. */
interface LoadedTools {
  registry: ToolRegistry;
  /** The configuration factories a tool's provider depends on, through its constructor's dependencies. */
  configsOf(name: string): ConfigFactory[];
}

/**
 * The ToolCatalog the tenants loader checks tool names against, as the service would build it in a deployment:
 * the service's own ToolRegistry, over every `@RealtimeTool()` provider of the application, on the deployment's
 * environment. Nothing is kept here about which tools exist or what turns them on.
 *
 * Nest's injector builds the registry and the tool providers (with their dependencies) from the application's
 * module graph, and nothing else of the application: no storage, no sockets, no lifecycle hook besides the
 * registry's own discovery. That is why this reaches into `@nestjs/core/internal` (a Nest application context
 * would build, and start, everything). Should a tool ever depend on storage, it gets SQLite in a temporary
 * directory, never the deployment's database.
 *
 * A tool that is off for want of configuration is explained the way an operator needs it — "not configured:
 * ORDER_API_URL is not set" — by trying out, with the service's registry, which one variable (of those .env.example
 * documents, read by the configuration the tool depends on) would turn it on. Transfer routes that other libraries
 * add to `transfer_to_human` (found at run time, not injected) are not built: their storage is not to be opened.
 */
export class DeploymentTools implements ToolCatalog {
  private readonly entries: Array<{ name: string; enabled: boolean; disabledBecause?: string }>;

  private constructor(
    private readonly loaded: LoadedTools,
    /** How each tool that is off for want of configuration could be turned on (variable names), by tool name. */
    private readonly configuredBy: Map<string, string[]>,
  ) {
    this.entries = loaded.registry
      .all()
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((tool) => ({ name: tool.name, enabled: tool.enabled, disabledBecause: this.reason(tool) }));
  }

  /**
   * The catalog of a deployment whose container environment is `known` (its literal values) plus `secret` (names
   * whose values come from a Secret: they are set, with values unknown here). Throws what the service would throw
   * at start-up when these settings are invalid (ConfigValidationError, ToolRegistrationError).
   */
  static async of(service: BuiltService, known: Environment, secret: Iterable<string>, documented: Iterable<string>): Promise<DeploymentTools> {
    const env = { ...known, ...standIns(service, [...secret].filter((name) => !(name in known))) };
    const candidates = [...documented];
    const loaded = await loadTools(service, env);
    const configuredBy = new Map<string, string[]>();
    for (const tool of loaded.registry.all()) {
      if (!tool.enabled && tool.disabledBecause !== 'TOOLS_DISABLED') {
        configuredBy.set(tool.name, await variablesThatEnable(service, env, loaded, tool.name, candidates));
      }
    }
    return new DeploymentTools(loaded, configuredBy);
  }

  all(): ReadonlyArray<{ name: string; enabled: boolean; disabledBecause?: string }> {
    return this.entries;
  }

  /** As the registry builds them (ToolRegistry.schemasOf): sorted by name, each schema derived from its DTO. */
  schemasOf(names: Iterable<string>): ReturnType<ToolCatalog['schemasOf']> {
    return this.loaded.registry.schemasOf(names);
  }

  private reason(tool: RegisteredTool): string | undefined {
    if (tool.enabled) return undefined;
    const variables = this.configuredBy.get(tool.name) ?? [];
    if (tool.disabledBecause === 'not configured' && variables.length > 0) return `not configured: ${variables.join(' or ')} is not set`;
    return tool.disabledBecause;
  }
}

/** A value for each variable from the Secret: the first sample its own validation accepts (none: it stays unset). */
function standIns(service: BuiltService, names: string[]): Environment {
  const chosen: Environment = {};
  for (const value of SAMPLE_VALUES) {
    const open = names.filter((name) => !(name in chosen));
    if (open.length === 0) break;
    const rejected = new Set(validationProblems(service, Object.fromEntries(open.map((name) => [name, value]))));
    for (const name of open) if (!rejected.has(name)) chosen[name] = value;
  }
  return chosen;
}

/** The variables the service's configuration rejects in `env` (empty when it accepts all of them). */
function validationProblems(service: BuiltService, env: Environment): string[] {
  try {
    service.config.assertValidEnvironment(env);
    return [];
  } catch (error) {
    if (error instanceof service.config.ConfigValidationError) return error.problems.map((problem) => problem.variable);
    throw error;
  }
}

/**
 * The documented variables, unset in `env`, each of which alone turns `name` on: a variable is tried when the
 * configuration the tool depends on reads it (set to a sample its validation accepts, that configuration changes),
 * and kept when the registry then offers the tool.
 */
async function variablesThatEnable(service: BuiltService, env: Environment, loaded: LoadedTools, name: string, documented: string[]): Promise<string[]> {
  const factories = loaded.configsOf(name);
  if (factories.length === 0) return [];
  const base = factories.map((factory) => build(factory, env));
  const enabling: string[] = [];
  for (const variable of documented) {
    if (String(env[variable] ?? '').trim() !== '') continue;
    const value = SAMPLE_VALUES.find((sample) => {
      const tried = factories.map((factory) => build(factory, { ...env, [variable]: sample }));
      if (tried.some((outcome) => 'problems' in outcome && outcome.problems.includes(variable))) return false;
      return !isDeepStrictEqual(tried, base);
    });
    if (value === undefined) continue;
    const trial = await loadTools(service, { ...env, [variable]: value });
    if (trial.registry.find(name)?.enabled) enabling.push(variable);
  }
  return enabling;
}

/** Runs a configuration factory of the service (they read process.env) on the given variables only. */
function build(factory: ConfigFactory, env: Environment): Built {
  try {
    return { value: withEnvironment(env, factory) };
  } catch (error) {
    const problems = (error as { problems?: Array<{ variable: string }> }).problems;
    return Array.isArray(problems) ? { problems: problems.map((problem) => problem.variable) } : { failed: String(error) };
  }
}

/** Runs `run` with process.env replaced by `env` (the configuration factories read process.env); restores it after. */
export function withEnvironment<T>(env: Environment, run: () => T): T {
  const saved = process.env;
  process.env = { ...env };
  try {
    return run();
  } finally {
    process.env = saved;
  }
}

/**
 * The registry and the tool providers, built by Nest's injector from the application's module graph on `env`, and
 * the registry's discovery run (its onModuleInit): exactly what the service lists at start-up.
 */
async function loadTools(service: BuiltService, env: Environment): Promise<LoadedTools> {
  const dataDir = mkdtempSync(join(tmpdir(), 'validate-deploy-'));
  const saved = process.env;
  // The registry and the tools read their configuration while they are built, across the injector's awaits.
  const { DATABASE_URL: _database, ...rest } = env;
  process.env = { ...rest, DATA_DIR: dataDir };
  Logger.overrideLogger(false); // the registry logs the tools it found: not part of the validator's output
  try {
    const config = new ApplicationConfig();
    const container = new NestContainer(config);
    await new DependenciesScanner(container, new MetadataScanner(), NoopGraphInspector, config).scan(service.appModule);
    const injector = new Injector();
    const load = async (wrapper: InstanceWrapper): Promise<void> => {
      if (wrapper.host) await injector.loadProvider(wrapper, wrapper.host);
    };
    const providers = [...container.getModules().values()].flatMap((module) => [...module.providers.values()]);
    const provider = <T>(token: unknown): InstanceWrapper<T> => {
      const wrapper = providers.find((candidate) => candidate.token === token && !candidate.isAlias);
      if (!wrapper) throw new Error(`the application has no ${String((token as { name?: string }).name ?? token)} provider`);
      return wrapper as InstanceWrapper<T>;
    };

    const discovery = provider<DiscoveryService>(DiscoveryService);
    await load(discovery);
    const tools = discovery.instance.getProviders({ metadataKey: service.tools.RealtimeToolMetadata.KEY }).filter((wrapper) => !wrapper.isAlias);
    for (const tool of tools) await load(tool);
    const registry = provider<ToolRegistry>(service.tools.ToolRegistry);
    await load(registry);
    registry.instance.onModuleInit();

    const byName = new Map<string, InstanceWrapper>();
    for (const tool of tools) {
      const declared = discovery.instance.getMetadataByDecorator(service.tools.RealtimeToolMetadata, tool);
      if (typeof declared?.name === 'string') byName.set(declared.name, tool);
    }
    return {
      registry: registry.instance,
      configsOf: (name) => {
        const tool = byName.get(name);
        return tool ? configFactoriesOf(tool) : [];
      },
    };
  } finally {
    process.env = saved;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The configuration factories among a provider's constructor dependencies, transitively. */
function configFactoriesOf(root: InstanceWrapper): ConfigFactory[] {
  const found = new Set<ConfigFactory>();
  const seen = new Set<InstanceWrapper>();
  const visit = (wrapper: InstanceWrapper) => {
    if (seen.has(wrapper)) return;
    seen.add(wrapper);
    const factory: unknown = wrapper.metatype;
    const key = typeof factory === 'function' ? (factory as Partial<ConfigFactory>).KEY : undefined;
    if (typeof key === 'string' && wrapper.token === key) found.add(factory as ConfigFactory);
    for (const dependency of wrapper.getCtorMetadata() ?? []) visit(dependency);
    for (const property of wrapper.getPropertiesMetadata() ?? []) if (property.wrapper) visit(property.wrapper);
  };
  visit(root);
  return [...found];
}
