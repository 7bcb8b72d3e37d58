import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, Min, ValidateNested } from 'class-validator';
import { MAX_ARGUMENTS_CHARS, parseToolArguments } from './tool-arguments.js';

class Line {
  @IsString()
  sku!: string;
}

class Args {
  @IsString()
  order_number!: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(5)
  copies = 1;

  @IsOptional()
  @ValidateNested({ each: true })
  @Type(() => Line)
  lines?: Line[];
}

describe('parseToolArguments', () => {
  it('builds the DTO instance, with defaults applied and unknown properties stripped', async () => {
    const parsed = await parseToolArguments('{"order_number":"4217","extra":"x"}', Args);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.args).toBeInstanceOf(Args);
    expect(parsed.args).toEqual(Object.assign(new Args(), { order_number: '4217', copies: 1 }));
    expect(parsed.json).toEqual({ order_number: '4217', extra: 'x' });
  });

  it('reads an empty string as no arguments', async () => {
    const parsed = await parseToolArguments('', undefined);
    expect(parsed).toEqual({ ok: true, args: {}, json: {} });
  });

  it('describes JSON that does not parse', async () => {
    const parsed = await parseToolArguments('{"order_number": ', Args);
    expect(parsed).toEqual({ ok: false, message: 'The arguments are not valid JSON.', problems: [], json: null });
  });

  it.each(['[1,2]', 'null', '"text"', '42'])('refuses arguments that are not an object: %s', async (text) => {
    const parsed = await parseToolArguments(text, Args);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message).toBe('The arguments must be a JSON object.');
  });

  it('lists what is wrong, nested paths included', async () => {
    const parsed = await parseToolArguments('{"order_number":7,"copies":9,"lines":[{"sku":1}]}', Args);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.message).toBe('The arguments are not valid.');
    expect(parsed.problems).toEqual(
      expect.arrayContaining(['order_number must be a string', 'copies must not be greater than 5', 'lines.0.sku must be a string']),
    );
    expect(parsed.json).toEqual({ order_number: 7, copies: 9, lines: [{ sku: 1 }] });
  });

  it('refuses arguments that are too long', async () => {
    const parsed = await parseToolArguments(`{"order_number":"${'9'.repeat(MAX_ARGUMENTS_CHARS)}"}`, Args);
    expect(parsed.ok).toBe(false);
  });

  it('drops __proto__ keys instead of letting them reach the DTO', async () => {
    const parsed = await parseToolArguments('{"order_number":"1","__proto__":{"polluted":true}}', Args);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(Object.getPrototypeOf(parsed.args)).toBe(Args.prototype);
    expect((parsed.args as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('treats a non-string (missing) arguments field as no arguments text', async () => {
    const parsed = await parseToolArguments(undefined, Args);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problems).toContain('order_number must be a string');
  });
});
