import { Injectable } from '@nestjs/common';
import { Transform } from 'class-transformer';
import { IsString, Matches } from 'class-validator';
import { OrderApiClient } from './order-api.client.js';
import { RealtimeTool, ToolParam, type RealtimeToolHandler, type ToolContext } from '#tools';

/** The arguments: validated before `execute` runs, and the source of the JSON Schema the model sees. */
export class LookupOrderArgs {
  // Callers read numbers out in groups ("42 17"): the model may keep the spaces, or send a number.
  @Transform(({ value }) => compactOrderNumber(value))
  @IsString()
  @Matches(/^[A-Za-z0-9]{3,32}$/, { message: 'order_number must be 3 to 32 letters or digits' })
  @ToolParam({ description: 'The order number the caller gave, letters and digits only.', example: '4217' })
  order_number!: string;
}

function compactOrderNumber(value: unknown): unknown {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  return typeof value === 'string' ? value.replace(/[\s-]+/g, '') : value;
}

/**
 * `lookup_order`: the status of an order, from the order API. Offered only when ORDER_API_URL is set. The API's
 * failures throw (the model hears "the tool failed" and the error is logged); an unknown order is an ordinary answer.
 */
@Injectable()
@RealtimeTool({
  name: 'lookup_order',
  description:
    'Looks up an order by its order number: its status, carrier and expected delivery date. Ask the caller for the ' +
    'order number first. If the order is not found, ask them to check the number.',
  parameters: LookupOrderArgs,
})
export class LookupOrderTool implements RealtimeToolHandler<LookupOrderArgs> {
  constructor(private readonly orders: OrderApiClient) {}

  isEnabled(): boolean {
    return this.orders.configured;
  }

  async execute({ order_number }: LookupOrderArgs, context: ToolContext) {
    // `context.signal` aborts the request when the run times out (TOOL_TIMEOUT_MS).
    const order = await this.orders.findOrder(order_number, context.signal);
    if (!order) return { found: false, order_number };
    return {
      found: true,
      order_number: order.number,
      status: order.status,
      ...(order.carrier ? { carrier: order.carrier } : {}),
      ...(order.estimatedDelivery ? { estimated_delivery: order.estimatedDelivery } : {}),
      ...(order.itemCount !== undefined ? { item_count: order.itemCount } : {}),
    };
  }
}
