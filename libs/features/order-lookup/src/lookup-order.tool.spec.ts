import 'reflect-metadata';
import { describe, expect, it } from '@jest/globals';
import { LookupOrderArgs, LookupOrderTool } from './lookup-order.tool.js';
import { OrderApiError, type Order, type OrderApiClient } from './order-api.client.js';
import { fakeToolContext, parseToolArguments, toolParametersSchema } from '#tools';

/** The order API, faked: the tool's own logic is what is tested here (the client has its own test). */
function toolWith(find: (number: string) => Promise<Order | undefined>): { tool: LookupOrderTool; asked: string[] } {
  const asked: string[] = [];
  const client = {
    configured: true,
    findOrder: async (number: string) => {
      asked.push(number);
      return find(number);
    },
  } as unknown as OrderApiClient;
  return { tool: new LookupOrderTool(client), asked };
}

describe('lookup_order', () => {
  it('tells the model the status, carrier, delivery date and item count, and nothing else', async () => {
    const { tool, asked } = toolWith(async (number) => ({
      number,
      status: 'shipped',
      carrier: 'UPS',
      estimatedDelivery: '2026-01-19',
      itemCount: 2,
    }));
    const result = await tool.execute(Object.assign(new LookupOrderArgs(), { order_number: '4217' }), fakeToolContext());
    expect(asked).toEqual(['4217']);
    expect(result).toEqual({
      found: true,
      order_number: '4217',
      status: 'shipped',
      carrier: 'UPS',
      estimated_delivery: '2026-01-19',
      item_count: 2,
    });
  });

  it('answers found: false for an order the API does not know', async () => {
    const { tool } = toolWith(async () => undefined);
    expect(await tool.execute(Object.assign(new LookupOrderArgs(), { order_number: '9999' }), fakeToolContext())).toEqual({
      found: false,
      order_number: '9999',
    });
  });

  it('lets an API failure through (the model then hears the tool failed)', async () => {
    const { tool } = toolWith(async () => {
      throw new OrderApiError('the order API answered 503', 503);
    });
    await expect(tool.execute(Object.assign(new LookupOrderArgs(), { order_number: '1' }), fakeToolContext())).rejects.toThrow(
      'answered 503',
    );
  });

  it('is offered only when the order API is configured', () => {
    expect(new LookupOrderTool({ configured: false } as OrderApiClient).isEnabled()).toBe(false);
    expect(new LookupOrderTool({ configured: true } as OrderApiClient).isEnabled()).toBe(true);
  });

  it('shows the model a schema derived from the DTO', () => {
    expect(toolParametersSchema(LookupOrderArgs)).toEqual({
      type: 'object',
      properties: {
        order_number: {
          type: 'string',
          pattern: '^[A-Za-z0-9]{3,32}$',
          description: 'The order number the caller gave, letters and digits only.',
          examples: ['4217'],
        },
      },
      required: ['order_number'],
      additionalProperties: false,
    });
  });

  it.each([
    ['"42 17"', '4217'],
    ['"A-1234"', 'A1234'],
    ['4217', '4217'],
  ])('accepts the order number %s as the model may send it', async (value, expected) => {
    // Exactly what the executor does with the model's arguments before calling execute.
    const parsed = await parseToolArguments(`{"order_number":${value}}`, LookupOrderArgs);
    expect(parsed.ok && (parsed.args as LookupOrderArgs).order_number).toBe(expected);
  });

  it.each(['"12"', '"4217; DROP"', 'null', 'true'])('refuses the order number %s', async (value) => {
    expect((await parseToolArguments(`{"order_number":${value}}`, LookupOrderArgs)).ok).toBe(false);
  });
});
