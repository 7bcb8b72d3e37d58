import { afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Inject, Injectable, Logger, Module, Scope, type Provider } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { DiscoveryModule, REQUEST } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { IsInt, IsString, Min } from 'class-validator';
import { RealtimeTool, RealtimeToolMetadata } from './realtime-tool.decorator.js';
import { ToolParam } from './tool-param.decorator.js';
import { ToolRegistry } from './tool-registry.js';
import { toolsConfig } from './tools.config.js';
import { ToolRegistrationError, ToolRegistrationErrorCode } from './tools.errors.js';
import type { RealtimeToolHandler } from './tool.types.js';
import { EnvironmentSandbox } from '#testing';

class GreetArgs {
  @IsString()
  @ToolParam({ description: 'Who to greet' })
  name!: string;

  @IsInt()
  @Min(1)
  times!: number;
}

@RealtimeTool({ name: 'greet', description: 'Greets someone.', parameters: GreetArgs })
@Injectable()
class GreetTool implements RealtimeToolHandler<GreetArgs> {
  execute(args: GreetArgs) {
    return `hello ${args.name}`;
  }
}

@RealtimeTool({ name: 'check_weather', description: 'Tells the weather.', timeoutMs: 2500 })
@Injectable()
class WeatherTool {
  execute() {
    return 'sunny';
  }
}

@RealtimeTool({ name: 'greet', description: 'Another greeter.' })
@Injectable()
class OtherGreetTool {
  execute() {
    return 'hi';
  }
}

@RealtimeTool({ name: 'look up order', description: 'Spaces are not allowed.' })
@Injectable()
class BadNameTool {
  execute() {
    return '';
  }
}

@RealtimeTool({ name: 'per_request', description: 'Request-scoped.' })
@Injectable({ scope: Scope.REQUEST })
class RequestScopedTool {
  execute() {
    return '';
  }
}

@Injectable({ scope: Scope.REQUEST })
class RequestScopedService {
  constructor(@Inject(REQUEST) readonly request: unknown) {}
}

@RealtimeTool({ name: 'depends_on_request', description: 'Depends on a request-scoped service.' })
@Injectable()
class DependsOnRequestTool {
  constructor(readonly service: RequestScopedService) {}
  execute() {
    return '';
  }
}

@RealtimeTool({ name: 'transient', description: 'Transient.' })
@Injectable({ scope: Scope.TRANSIENT })
class TransientTool {
  execute() {
    return '';
  }
}

@RealtimeTool({ name: 'not_configured', description: 'Off without configuration.' })
@Injectable()
class UnconfiguredTool {
  isEnabled() {
    return false;
  }
  execute() {
    return '';
  }
}

@RealtimeTool({ name: 'no_description', description: ' ' })
@Injectable()
class NoDescriptionTool {
  execute() {
    return '';
  }
}

// The typed decorator refuses this at compile time; the raw metadata stands for untyped (JavaScript) use.
@RealtimeToolMetadata({ name: 'no_execute', description: 'Forgot its method.' })
@Injectable()
class NoExecuteTool {}

const env = new EnvironmentSandbox(['TOOLS_DISABLED', 'TOOL_TIMEOUT_MS']);

async function boot(providers: Provider[], variables: Record<string, string> = {}, otherModuleProviders: Provider[] = []) {
  env.set(variables);
  @Module({ providers: otherModuleProviders })
  class OtherFeatureModule {}
  const moduleRef = await Test.createTestingModule({
    imports: [ConfigModule.forRoot({ ignoreEnvFile: true }), ConfigModule.forFeature(toolsConfig), DiscoveryModule, OtherFeatureModule],
    providers: [ToolRegistry, ...providers],
  }).compile();
  await moduleRef.init();
  return moduleRef;
}

async function failure(providers: Provider[], variables: Record<string, string> = {}): Promise<ToolRegistrationError> {
  try {
    await boot(providers, variables);
  } catch (error) {
    if (error instanceof ToolRegistrationError) return error;
    throw error;
  }
  throw new Error('expected the start-up to fail');
}

beforeAll(() => {
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => {});
});

afterEach(() => env.restore());

describe('ToolRegistry', () => {
  it('finds @RealtimeTool providers in any module and offers their schemas, sorted by name', async () => {
    const app = await boot([GreetTool], {}, [WeatherTool]);
    const registry = app.get(ToolRegistry);
    expect(registry.schemas()).toEqual([
      {
        type: 'function',
        name: 'check_weather',
        description: 'Tells the weather.',
        parameters: { type: 'object', properties: {}, required: [], additionalProperties: false },
      },
      {
        type: 'function',
        name: 'greet',
        description: 'Greets someone.',
        parameters: {
          type: 'object',
          properties: { name: { type: 'string', description: 'Who to greet' }, times: { type: 'integer', minimum: 1 } },
          required: ['name', 'times'],
          additionalProperties: false,
        },
      },
    ]);
    expect(registry.get('greet')?.handler).toBe(app.get(GreetTool));
    expect(registry.get('greet')?.parameters).toBe(GreetArgs);
    await app.close();
  });

  it('takes the timeout from the decorator, else TOOL_TIMEOUT_MS', async () => {
    const app = await boot([GreetTool, WeatherTool], { TOOL_TIMEOUT_MS: '1234' });
    expect(app.get(ToolRegistry).get('check_weather')?.timeoutMs).toBe(2500);
    expect(app.get(ToolRegistry).get('greet')?.timeoutMs).toBe(1234);
    await app.close();
  });

  it('leaves out tools that are off (no configuration, or TOOLS_DISABLED) but still knows them', async () => {
    const app = await boot([GreetTool, WeatherTool, UnconfiguredTool], { TOOLS_DISABLED: 'check_weather' });
    const registry = app.get(ToolRegistry);
    expect(registry.names()).toEqual(['greet']);
    expect(registry.get('not_configured')).toBeUndefined();
    expect(registry.get('check_weather')).toBeUndefined();
    expect(registry.all().map((t) => [t.name, t.enabled, t.disabledBecause])).toEqual(
      expect.arrayContaining([
        ['not_configured', false, 'not configured'],
        ['check_weather', false, 'TOOLS_DISABLED'],
      ]),
    );
    await app.close();
  });

  it('counts a useExisting alias of a tool once', async () => {
    const app = await boot([GreetTool, { provide: 'GREETER', useExisting: GreetTool }]);
    expect(app.get(ToolRegistry).names()).toEqual(['greet']);
    await app.close();
  });

  describe('refuses to start', () => {
    it('on a duplicate name, naming both classes', async () => {
      const error = await failure([GreetTool, OtherGreetTool]);
      expect(error.codes).toEqual([ToolRegistrationErrorCode.DuplicateName]);
      expect(error.message).toMatch(/"greet" is declared twice: by GreetTool and by OtherGreetTool/);
    });

    it('on an invalid name', async () => {
      const error = await failure([BadNameTool]);
      expect(error.codes).toEqual([ToolRegistrationErrorCode.InvalidName]);
      expect(error.message).toContain('"look up order" is invalid');
    });

    it('on a request-scoped tool, or one that depends on a request-scoped provider', async () => {
      expect((await failure([RequestScopedTool])).codes).toEqual([ToolRegistrationErrorCode.NotSingleton]);
      const error = await failure([DependsOnRequestTool, RequestScopedService]);
      expect(error.codes).toEqual([ToolRegistrationErrorCode.NotSingleton]);
      expect(error.message).toContain('DependsOnRequestTool');
    });

    it('on a transient tool', async () => {
      expect((await failure([TransientTool])).codes).toEqual([ToolRegistrationErrorCode.NotSingleton]);
    });

    it('on a tool registered with useValue or useFactory', async () => {
      expect((await failure([{ provide: 'VALUE_TOOL', useValue: new GreetTool() }])).codes).toEqual([
        ToolRegistrationErrorCode.NotClassProvider,
      ]);
      const error = await failure([{ provide: 'FACTORY_TOOL', useFactory: () => new WeatherTool() }]);
      expect(error.codes).toEqual([ToolRegistrationErrorCode.NotClassProvider]);
      expect(error.message).toContain('register the class itself (providers: [WeatherTool])');
    });

    it('on a tool without a description or without execute', async () => {
      const error = await failure([NoDescriptionTool, NoExecuteTool]);
      expect(error.codes).toEqual([ToolRegistrationErrorCode.InvalidDeclaration, ToolRegistrationErrorCode.InvalidDeclaration]);
      expect(error.message).toContain('a description is required');
      expect(error.message).toContain('no execute(args, context) method');
    });

    it('when TOOLS_DISABLED names a tool that does not exist', async () => {
      const error = await failure([GreetTool], { TOOLS_DISABLED: 'greet,end_cal' });
      expect(error.codes).toEqual([ToolRegistrationErrorCode.UnknownName]);
      expect(error.message).toContain('"end_cal"');
    });

    it('naming every problem at once', async () => {
      const error = await failure([GreetTool, OtherGreetTool, BadNameTool, TransientTool]);
      expect(error.problems).toHaveLength(3);
      expect(error.message.split('\n').filter((line) => line.startsWith('  - '))).toHaveLength(3);
    });
  });
});
