import { describe, expect, it } from '@jest/globals';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  Equals,
  IsArray,
  IsBoolean,
  IsEmail,
  IsEnum,
  IsIn,
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsNumber,
  IsOptional,
  IsPositive,
  IsString,
  IsUrl,
  IsUUID,
  Length,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { ToolParam } from '../tool-param.decorator.js';
import { toolParametersSchema } from './tool-schema.js';

enum Priority {
  Low = 'low',
  High = 'high',
}

enum Numeric {
  One = 1,
  Two = 2,
}

class Address {
  @IsString()
  @ToolParam({ description: 'Street and number' })
  street!: string;

  @IsOptional()
  @Matches(/^\d{5}$/)
  zip?: string;
}

class Item {
  @IsString()
  sku!: string;

  @IsInt()
  @Min(1)
  quantity!: number;
}

class Everything {
  @IsString()
  @MinLength(2)
  @MaxLength(40)
  @ToolParam({ description: 'The customer name', example: 'Ada' })
  name!: string;

  @IsInt()
  @Min(0)
  @Max(120)
  age!: number;

  @IsNumber()
  @IsPositive()
  amount!: number;

  @IsBoolean()
  @IsOptional()
  urgent?: boolean;

  @IsIn(['email', 'sms'])
  channel!: 'email' | 'sms';

  @IsEnum(Priority)
  priority!: Priority;

  @IsEnum(Numeric)
  level!: Numeric;

  @Equals('v1')
  version!: string;

  @Length(4, 8)
  pin!: string;

  @IsNotEmpty()
  @IsString()
  note!: string;

  @IsEmail()
  email!: string;

  @IsUrl()
  website!: string;

  @IsUUID()
  id!: string;

  @IsISO8601()
  when!: string;

  @IsArray()
  @IsString({ each: true })
  @MaxLength(10, { each: true })
  @ArrayMinSize(1)
  @ArrayMaxSize(3)
  @ArrayUnique()
  tags!: string[];

  @IsOptional()
  @IsIn(['a', 'b'], { each: true })
  letters?: string[];

  @ValidateNested()
  @Type(() => Address)
  address!: Address;

  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => Item)
  items!: Item[];

  @ToolParam({ description: 'Anything at all' })
  free!: unknown;
}

describe('toolParametersSchema', () => {
  const schema = toolParametersSchema(Everything);

  it('describes an object without extra properties, everything required but the optional ones', () => {
    expect(schema.type).toBe('object');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required?.sort()).toEqual(
      Object.keys(schema.properties!)
        .filter((name) => !['urgent', 'letters'].includes(name))
        .sort(),
    );
  });

  it('reads types, bounds and descriptions from the class-validator and @ToolParam decorators', () => {
    const p = schema.properties!;
    expect(p.name).toEqual({ type: 'string', minLength: 2, maxLength: 40, description: 'The customer name', examples: ['Ada'] });
    expect(p.age).toEqual({ type: 'integer', minimum: 0, maximum: 120 });
    expect(p.amount).toEqual({ type: 'number', exclusiveMinimum: 0 });
    expect(p.urgent).toEqual({ type: 'boolean' });
    expect(p.channel).toEqual({ type: 'string', enum: ['email', 'sms'] });
    expect(p.priority).toEqual({ type: 'string', enum: ['low', 'high'] });
    expect(p.level).toEqual({ type: 'integer', enum: [1, 2] });
    expect(p.version).toEqual({ type: 'string', const: 'v1' });
    expect(p.pin).toEqual({ type: 'string', minLength: 4, maxLength: 8 });
    expect(p.note).toEqual({ type: 'string', minLength: 1 });
    expect(p.email).toEqual({ type: 'string', format: 'email' });
    expect(p.website).toEqual({ type: 'string', format: 'uri' });
    expect(p.id).toEqual({ type: 'string', format: 'uuid' });
    expect(p.when).toEqual({ type: 'string', format: 'date-time' });
    expect(p.free).toEqual({ description: 'Anything at all' });
  });

  it('describes arrays of primitives with their item rules', () => {
    expect(schema.properties!.tags).toEqual({
      type: 'array',
      minItems: 1,
      maxItems: 3,
      uniqueItems: true,
      items: { type: 'string', maxLength: 10 },
    });
    expect(schema.properties!.letters).toEqual({ type: 'array', items: { type: 'string', enum: ['a', 'b'] } });
  });

  it('follows nested DTOs, alone and in arrays, through class-transformer @Type()', () => {
    expect(schema.properties!.address).toEqual({
      type: 'object',
      properties: { street: { type: 'string', description: 'Street and number' }, zip: { type: 'string', pattern: '^\\d{5}$' } },
      required: ['street'],
      additionalProperties: false,
    });
    expect(schema.properties!.items).toEqual({
      type: 'array',
      items: {
        type: 'object',
        properties: { sku: { type: 'string' }, quantity: { type: 'integer', minimum: 1 } },
        required: ['sku', 'quantity'],
        additionalProperties: false,
      },
    });
  });

  it('gives a tool without parameters an empty object schema', () => {
    expect(toolParametersSchema(undefined)).toEqual({ type: 'object', properties: {}, required: [], additionalProperties: false });
  });

  it('includes the properties a DTO inherits, the subclass description winning', () => {
    class Base {
      @IsString()
      @ToolParam({ description: 'base' })
      a!: string;
    }
    class Derived extends Base {
      @IsInt()
      b!: number;
    }
    const derived = toolParametersSchema(Derived);
    expect(derived.properties).toEqual({ a: { type: 'string', description: 'base' }, b: { type: 'integer' } });
    expect(derived.required).toEqual(expect.arrayContaining(['a', 'b']));
  });

  it('stops at a DTO that contains itself', () => {
    class Node {
      @IsString()
      label!: string;

      @IsOptional()
      @ValidateNested()
      @Type(() => Node)
      child?: Node;
    }
    const node = toolParametersSchema(Node);
    let depth = 0;
    let current = node;
    while (current.properties?.child) {
      current = current.properties.child;
      depth++;
    }
    expect(depth).toBeGreaterThan(3);
    expect(current).toEqual({ type: 'object' });
  });
});
