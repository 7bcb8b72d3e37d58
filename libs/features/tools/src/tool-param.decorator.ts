import 'reflect-metadata';
import { Allow } from 'class-validator';

export interface ToolParamOptions {
  /** What the model should put here: it reads this in the function's JSON Schema. */
  description?: string;
  /** An example value, shown to the model in the schema (`examples: [value]`). */
  example?: unknown;
}

const TOOL_PARAMS = Symbol('tool:params');

/**
 * Describes an argument of a tool for the model. The property's type and constraints come from its class-validator
 * decorators; this adds the words. A property with only `@ToolParam()` accepts any value.
 */
export function ToolParam(options: ToolParamOptions = {}): PropertyDecorator {
  return (target: object, propertyKey: string | symbol) => {
    if (typeof propertyKey !== 'string') return;
    const own: Map<string, ToolParamOptions> = Reflect.hasOwnMetadata(TOOL_PARAMS, target)
      ? Reflect.getOwnMetadata(TOOL_PARAMS, target)
      : new Map();
    own.set(propertyKey, options);
    Reflect.defineMetadata(TOOL_PARAMS, own, target);
    // Whitelisting validation keeps only decorated properties: a described property is a declared one.
    Allow()(target, propertyKey);
  };
}

/** `@ToolParam` options by property, this class's and its ancestors' (the subclass wins). */
export function toolParamsOf(dto: Function): Map<string, ToolParamOptions> {
  const chain: Map<string, ToolParamOptions>[] = [];
  for (let proto = dto.prototype; proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    if (Reflect.hasOwnMetadata(TOOL_PARAMS, proto)) chain.unshift(Reflect.getOwnMetadata(TOOL_PARAMS, proto));
  }
  return new Map(chain.flatMap((map) => [...map]));
}
