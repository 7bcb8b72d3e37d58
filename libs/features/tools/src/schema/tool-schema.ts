import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, ValidationTypes } from 'class-validator';
import { toolParamsOf } from '../tool-param.decorator.js';

/** The JSON Schema subset OpenAI function tools use. */
export interface JsonSchema {
  type?: 'object' | 'string' | 'number' | 'integer' | 'boolean' | 'array';
  description?: string;
  examples?: unknown[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
}

/** How deep nested DTOs are followed (a DTO that contains itself stops here as a plain object). */
const MAX_DEPTH = 6;

export const EMPTY_PARAMETERS: JsonSchema = Object.freeze({
  type: 'object',
  properties: {},
  required: [],
  additionalProperties: false,
}) as JsonSchema;

interface Rule {
  type: string;
  name?: string;
  constraints?: unknown[];
  each?: boolean;
}

/**
 * The JSON Schema of a tool's arguments, read from the class-validator decorators of its DTO (and `@ToolParam`
 * descriptions), so the schema the model sees and the validation its arguments go through cannot drift apart.
 *
 * Understood: IsString, IsInt, IsNumber, IsBoolean, IsIn, IsEnum, Equals, IsOptional, IsArray (+ `each: true`
 * rules for the items, ArrayMinSize/ArrayMaxSize/ArrayUnique), Min, Max, IsPositive, IsNegative, MinLength,
 * MaxLength, Length, IsNotEmpty, Matches, IsEmail, IsUrl, IsUUID, IsISO8601/IsDateString, and ValidateNested with
 * class-transformer's @Type() (or a property typed with the nested class). Rules it does not know constrain the
 * arguments without appearing in the schema.
 */
export function toolParametersSchema(dto: Function | undefined): JsonSchema {
  return dto === undefined ? structuredClone(EMPTY_PARAMETERS) : objectSchema(dto, 0);
}

function objectSchema(dto: Function, depth: number): JsonSchema {
  if (depth > MAX_DEPTH) return { type: 'object' };
  const rules = getMetadataStorage().getTargetValidationMetadatas(dto, '', false, false) as unknown as Array<
    Rule & { propertyName: string }
  >;
  const byProperty = new Map<string, Rule[]>();
  for (const rule of rules) {
    if (!byProperty.has(rule.propertyName)) byProperty.set(rule.propertyName, []);
    byProperty.get(rule.propertyName)!.push({ type: rule.type, name: rule.name, constraints: rule.constraints, each: rule.each });
  }
  const params = toolParamsOf(dto);
  for (const name of params.keys()) if (!byProperty.has(name)) byProperty.set(name, []);

  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const [name, propertyRules] of byProperty) {
    const optional = propertyRules.some((r) => r.type === ValidationTypes.CONDITIONAL_VALIDATION && r.name === 'isOptional');
    const schema = propertySchema(dto, name, propertyRules, depth);
    const param = params.get(name);
    if (param?.description) schema.description = param.description;
    if (param?.example !== undefined) schema.examples = [param.example];
    properties[name] = schema;
    if (!optional) required.push(name);
  }
  return { type: 'object', properties, required, additionalProperties: false };
}

function propertySchema(dto: Function, property: string, rules: Rule[], depth: number): JsonSchema {
  const designType = Reflect.getMetadata('design:type', dto.prototype, property) as unknown;
  const isArray =
    designType === Array || rules.some((r) => r.name === 'isArray' || (r.each === true && r.type !== ValidationTypes.WHITELIST));
  const nested = rules.some((r) => r.type === ValidationTypes.NESTED_VALIDATION);

  if (!isArray) {
    const schema: JsonSchema = {};
    if (nested) Object.assign(schema, nestedSchema(dto, property, false, designType, depth));
    applyRules(schema, rules.filter((r) => !r.each));
    return schema;
  }
  const items: JsonSchema = nested ? nestedSchema(dto, property, true, designType, depth) : {};
  applyRules(items, rules.filter((r) => r.each));
  const schema: JsonSchema = { type: 'array' };
  applyArrayRules(schema, rules.filter((r) => !r.each));
  if (Object.keys(items).length > 0) schema.items = items;
  return schema;
}

/** The nested DTO's schema: the class comes from class-transformer's @Type() (which validation needs anyway). */
function nestedSchema(dto: Function, property: string, isArray: boolean, designType: unknown, depth: number): JsonSchema {
  const nestedClass = transformedClass(dto, property, isArray) ?? (isArray ? undefined : userClass(designType));
  return nestedClass ? objectSchema(nestedClass, depth + 1) : { type: 'object' };
}

/** Asks class-transformer what class it would build for this property (it honours @Type()). */
function transformedClass(dto: Function, property: string, isArray: boolean): Function | undefined {
  try {
    const probe = plainToInstance(dto as new () => object, { [property]: isArray ? [{}] : {} }) as Record<string, unknown>;
    const value = isArray ? (probe[property] as unknown[] | undefined)?.[0] : probe[property];
    return userClass((value as object | undefined)?.constructor);
  } catch {
    return undefined;
  }
}

function userClass(candidate: unknown): Function | undefined {
  if (typeof candidate !== 'function') return undefined;
  return [Object, Array, String, Number, Boolean, Date, Function].includes(candidate as ObjectConstructor)
    ? undefined
    : candidate;
}

function applyRules(schema: JsonSchema, rules: Rule[]): void {
  let notEmpty = false;
  for (const rule of rules) {
    const [a, b] = rule.constraints ?? [];
    switch (rule.name) {
      case 'isString':
        schema.type = 'string';
        break;
      case 'isInt':
        schema.type = 'integer';
        break;
      case 'isNumber':
        schema.type ??= 'number';
        break;
      case 'isBoolean':
        schema.type = 'boolean';
        break;
      case 'isObject':
        schema.type = 'object';
        break;
      case 'isIn':
        if (Array.isArray(a)) setEnum(schema, a);
        break;
      case 'isEnum':
        if (Array.isArray(b)) setEnum(schema, b);
        break;
      case 'equals':
        schema.const = a;
        inferType(schema, [a]);
        break;
      case 'min':
        if (typeof a === 'number') schema.minimum = a;
        break;
      case 'max':
        if (typeof a === 'number') schema.maximum = a;
        break;
      case 'isPositive':
        schema.exclusiveMinimum = 0;
        break;
      case 'isNegative':
        schema.exclusiveMaximum = 0;
        break;
      // The length rules only pass strings.
      case 'minLength':
        if (typeof a === 'number') schema.minLength = a;
        schema.type ??= 'string';
        break;
      case 'maxLength':
        if (typeof a === 'number') schema.maxLength = a;
        schema.type ??= 'string';
        break;
      case 'isLength':
        if (typeof a === 'number') schema.minLength = a;
        if (typeof b === 'number') schema.maxLength = b;
        schema.type ??= 'string';
        break;
      case 'isNotEmpty':
        notEmpty = true;
        break;
      case 'matches':
        if (a instanceof RegExp) schema.pattern = a.source;
        else if (typeof a === 'string') schema.pattern = a;
        schema.type ??= 'string';
        break;
      case 'isEmail':
        Object.assign(schema, { type: 'string', format: 'email' });
        break;
      case 'isUrl':
        Object.assign(schema, { type: 'string', format: 'uri' });
        break;
      case 'isUuid':
      case 'isUUID':
        Object.assign(schema, { type: 'string', format: 'uuid' });
        break;
      case 'isIso8601':
      case 'isISO8601':
      case 'isDateString':
        Object.assign(schema, { type: 'string', format: 'date-time' });
        break;
      default:
        break;
    }
  }
  if (notEmpty && schema.type === 'string') schema.minLength = Math.max(schema.minLength ?? 0, 1);
}

function applyArrayRules(schema: JsonSchema, rules: Rule[]): void {
  for (const rule of rules) {
    const [a] = rule.constraints ?? [];
    if (rule.name === 'arrayMinSize' && typeof a === 'number') schema.minItems = a;
    else if (rule.name === 'arrayMaxSize' && typeof a === 'number') schema.maxItems = a;
    else if (rule.name === 'arrayUnique') schema.uniqueItems = true;
    else if (rule.name === 'arrayNotEmpty') schema.minItems = Math.max(schema.minItems ?? 0, 1);
  }
}

function setEnum(schema: JsonSchema, values: unknown[]): void {
  schema.enum = [...values];
  inferType(schema, values);
}

function inferType(schema: JsonSchema, values: unknown[]): void {
  if (schema.type !== undefined || values.length === 0) return;
  if (values.every((v) => typeof v === 'string')) schema.type = 'string';
  else if (values.every((v) => typeof v === 'boolean')) schema.type = 'boolean';
  else if (values.every((v) => Number.isInteger(v))) schema.type = 'integer';
  else if (values.every((v) => typeof v === 'number')) schema.type = 'number';
}
