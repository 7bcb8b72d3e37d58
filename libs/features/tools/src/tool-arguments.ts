import type { Type } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate, type ValidationError } from 'class-validator';
import { errorMessage } from '#resilience';

/** Longest arguments text accepted from the model. */
export const MAX_ARGUMENTS_CHARS = 64 * 1024;
/** Validation problems listed to the model, at most. */
const MAX_PROBLEMS = 10;

export type ParsedArguments =
  | { ok: true; args: object; json: Record<string, unknown> }
  | { ok: false; message: string; problems: string[]; json: Record<string, unknown> | null };

/**
 * Turns the model's arguments text into the tool's DTO: JSON object → class instance (class-transformer, defaults
 * applied) → class-validator with unknown properties stripped. Never throws; a problem is described for the model.
 */
export async function parseToolArguments(text: unknown, dto: Type<object> | undefined): Promise<ParsedArguments> {
  const source = typeof text === 'string' ? text : '';
  if (source.length > MAX_ARGUMENTS_CHARS) {
    return { ok: false, message: `The arguments are too long (over ${MAX_ARGUMENTS_CHARS} characters).`, problems: [], json: null };
  }
  let json: unknown;
  try {
    // An empty string is what some models send for a function without parameters.
    json = source.trim() === '' ? {} : JSON.parse(source, (key, value) => (key === '__proto__' ? undefined : value));
  } catch {
    return { ok: false, message: 'The arguments are not valid JSON.', problems: [], json: null };
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { ok: false, message: 'The arguments must be a JSON object.', problems: [], json: null };
  }
  const object = json as Record<string, unknown>;
  if (dto === undefined) return { ok: true, args: {}, json: object };

  let instance: object;
  let errors: ValidationError[];
  try {
    instance = plainToInstance(dto, object, { exposeDefaultValues: true });
    errors = await validate(instance, { whitelist: true, forbidUnknownValues: true, validationError: { target: false, value: false } });
  } catch (error) {
    return { ok: false, message: `The arguments could not be read: ${errorMessage(error)}`, problems: [], json: object };
  }
  if (errors.length > 0) {
    const problems = describe(errors).slice(0, MAX_PROBLEMS);
    return { ok: false, message: 'The arguments are not valid.', problems, json: object };
  }
  return { ok: true, args: instance, json: object };
}

/** "order_number must be a string", with nested paths ("items.0.sku must …"). */
function describe(errors: ValidationError[], path = ''): string[] {
  return errors.flatMap((error) => {
    const at = path ? `${path}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) =>
      path && message.startsWith(`${error.property} `) ? `${at}${message.slice(error.property.length)}` : message,
    );
    return [...own, ...describe(error.children ?? [], at)];
  });
}
