import { Inject, Injectable, Logger, Scope, type OnModuleInit, type Type } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import type { RealtimeFunctionTool } from 'openai/resources/realtime/realtime';
import { RealtimeToolMetadata, type RealtimeToolOptions } from './realtime-tool.decorator.js';
import { toolParametersSchema, type JsonSchema } from './schema/tool-schema.js';
import { TOOL_NAME, toolsConfig } from './tools.config.js';
import { ToolRegistrationError, ToolRegistrationErrorCode as Code, type ToolRegistrationProblem } from './tools.errors.js';
import type { RealtimeToolHandler } from './tool.types.js';
import type { ConfigType } from '#config';
import { errorMessage } from '#resilience';

const MAX_DESCRIPTION = 4096;
const MAX_TIMEOUT_MS = 600_000;

/** A tool the registry knows, enabled or not. */
export interface RegisteredTool {
  name: string;
  description: string;
  parameters?: Type<object>;
  /** The JSON Schema of its arguments (what the model sees). */
  schema: JsonSchema;
  handler: RealtimeToolHandler;
  timeoutMs: number;
  enabled: boolean;
  /** Why it is off: `TOOLS_DISABLED`, or its configuration is absent. */
  disabledBecause?: string;
  /** The provider class, for messages. */
  className: string;
}

/**
 * The tools the agent may call: every `@RealtimeTool()` class provider of the application, found with Nest's
 * DiscoveryService when the module initialises. Start-up fails, naming every problem, on an invalid or duplicate
 * name, a provider that is not a singleton class provider, or a DTO whose schema cannot be derived.
 */
@Injectable()
export class ToolRegistry implements OnModuleInit {
  private readonly logger = new Logger(ToolRegistry.name);
  private readonly known = new Map<string, RegisteredTool>();
  private enabledSchemas: RealtimeFunctionTool[] = [];

  constructor(
    private readonly discovery: DiscoveryService,
    @Inject(toolsConfig.KEY) private readonly config: ConfigType<typeof toolsConfig>,
  ) {}

  onModuleInit(): void {
    const problems: ToolRegistrationProblem[] = [];
    for (const wrapper of this.discovery.getProviders({ metadataKey: RealtimeToolMetadata.KEY })) {
      // `useExisting` aliases point at a provider that is discovered itself.
      if (wrapper.isAlias) continue;
      const problem = this.add(wrapper);
      if (problem) problems.push(problem);
    }
    for (const name of this.config.disabled) {
      if (!this.known.has(name)) {
        problems.push({ code: Code.UnknownName, message: `TOOLS_DISABLED names "${name}", which no tool is called` });
      }
    }
    if (problems.length > 0) throw new ToolRegistrationError(problems);
    this.seal();
  }

  /** The enabled tools as Realtime function tools, for the accept body (sorted by name: a stable body). */
  schemas(): RealtimeFunctionTool[] {
    // A copy: whoever builds an accept body may adapt it (per tenant) without touching the registry.
    return structuredClone(this.enabledSchemas);
  }

  /** An enabled tool by name. */
  get(name: string): RegisteredTool | undefined {
    const tool = this.known.get(name);
    return tool?.enabled ? tool : undefined;
  }

  /** Every tool found, enabled or not. */
  all(): RegisteredTool[] {
    return [...this.known.values()];
  }

  /**
   * A tool by name, enabled or not: for a call whose agent profile offers a tool the environment alone does not
   * configure (a profile with its own transfer target offers `transfer_to_human`).
   */
  find(name: string): RegisteredTool | undefined {
    return this.known.get(name);
  }

  /** The named tools (enabled or not; unknown names are skipped) as Realtime function tools, sorted by name. */
  schemasOf(names: Iterable<string>): RealtimeFunctionTool[] {
    const wanted = new Set(names);
    const tools = [...this.known.values()].filter((tool) => wanted.has(tool.name));
    return structuredClone(tools.sort((a, b) => a.name.localeCompare(b.name)).map(functionTool));
  }

  /** Names of the enabled tools. */
  names(): string[] {
    return this.enabledSchemas.map((tool) => tool.name!);
  }

  private add(wrapper: InstanceWrapper): ToolRegistrationProblem | undefined {
    // For useValue and useFactory providers, `metatype` is not the tool's class: its instance tells.
    const isClassProvider = Boolean(wrapper.metatype) && !wrapper.inject;
    const className =
      (isClassProvider ? (wrapper.metatype as Function).name : wrapper.instance?.constructor?.name) || String(wrapper.token);
    const where = wrapper.host ? `${className} (in ${wrapper.host.name})` : className;
    if (!isClassProvider) {
      return {
        code: Code.NotClassProvider,
        message: `${where} is a @RealtimeTool() registered with useValue or useFactory: register the class itself (providers: [${className}])`,
      };
    }
    if (wrapper.scope === Scope.REQUEST || wrapper.isTransient || !wrapper.isDependencyTreeStatic()) {
      return {
        code: Code.NotSingleton,
        message: `${where} is a @RealtimeTool() that is request-scoped or transient (or depends on such a provider): tools must be singletons`,
      };
    }
    const options = this.discovery.getMetadataByDecorator(RealtimeToolMetadata, wrapper) as RealtimeToolOptions | undefined;
    const handler = wrapper.instance as RealtimeToolHandler | undefined;
    if (!options || typeof options !== 'object') {
      return { code: Code.InvalidDeclaration, message: `${where}: @RealtimeTool() needs { name, description }` };
    }
    if (typeof options.name !== 'string' || !TOOL_NAME.test(options.name)) {
      return {
        code: Code.InvalidName,
        message: `${where}: tool name ${JSON.stringify(options.name)} is invalid (1-64 letters, digits, _ or -)`,
      };
    }
    const existing = this.known.get(options.name);
    if (existing) {
      return {
        code: Code.DuplicateName,
        message: `tool name "${options.name}" is declared twice: by ${existing.className} and by ${where}`,
      };
    }
    const declarationProblem = invalidDeclaration(options, handler);
    if (declarationProblem) return { code: Code.InvalidDeclaration, message: `${where} (${options.name}): ${declarationProblem}` };

    let schema: JsonSchema;
    let enabled: boolean;
    try {
      schema = toolParametersSchema(options.parameters);
      enabled = handler!.isEnabled?.() ?? true;
    } catch (error) {
      return { code: Code.InvalidDeclaration, message: `${where} (${options.name}): ${errorMessage(error)}` };
    }
    const disabledByEnv = this.config.disabled.has(options.name);
    this.known.set(options.name, {
      name: options.name,
      description: options.description.trim(),
      parameters: options.parameters,
      schema,
      handler: handler!,
      timeoutMs: handler!.timeoutMs ?? options.timeoutMs ?? this.config.timeoutMs,
      enabled: enabled && !disabledByEnv,
      disabledBecause: disabledByEnv ? 'TOOLS_DISABLED' : enabled ? undefined : 'not configured',
      className,
    });
    return undefined;
  }

  private seal(): void {
    const tools = [...this.known.values()].sort((a, b) => a.name.localeCompare(b.name));
    this.enabledSchemas = tools.filter((tool) => tool.enabled).map(functionTool);
    const off = tools.filter((tool) => !tool.enabled).map((tool) => `${tool.name} (${tool.disabledBecause})`);
    this.logger.log(
      `tools the agent can call: ${this.names().join(', ') || 'none'}${off.length > 0 ? `; off: ${off.join(', ')}` : ''}`,
    );
  }
}

function functionTool(tool: RegisteredTool): RealtimeFunctionTool {
  return { type: 'function', name: tool.name, description: tool.description, parameters: tool.schema };
}

function invalidDeclaration(options: RealtimeToolOptions, handler: RealtimeToolHandler | undefined): string | undefined {
  if (typeof options.description !== 'string' || options.description.trim() === '') return 'a description is required';
  if (options.description.length > MAX_DESCRIPTION) return `the description is longer than ${MAX_DESCRIPTION} characters`;
  if (options.parameters !== undefined && typeof options.parameters !== 'function') return 'parameters must be a DTO class';
  for (const timeout of [options.timeoutMs, handler?.timeoutMs]) {
    if (timeout !== undefined && (!Number.isInteger(timeout) || timeout < 1 || timeout > MAX_TIMEOUT_MS)) {
      return `timeoutMs must be an integer from 1 to ${MAX_TIMEOUT_MS}`;
    }
  }
  if (typeof handler?.execute !== 'function') return 'the class has no execute(args, context) method';
  return undefined;
}
