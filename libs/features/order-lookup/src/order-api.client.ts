import { Inject, Injectable } from '@nestjs/common';
import { orderLookupConfig } from './order-lookup.config.js';
import type { ConfigType } from '#config';

/** What the order API tells us about an order (the fields the agent may read out, and nothing else). */
export interface Order {
  number: string;
  status: string;
  estimatedDelivery?: string;
  carrier?: string;
  itemCount?: number;
}

/** The order API answered something other than an order or a 404. */
export class OrderApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'OrderApiError';
  }
}

/** Largest response body read from the API. */
const MAX_BODY_BYTES = 256 * 1024;

/**
 * The order API, over HTTP: `GET {ORDER_API_URL}/orders/{number}` with `Authorization: Bearer {ORDER_API_TOKEN}`,
 * answering 200 with the order as JSON or 404. The only place that knows the API's shape: adapt this file to yours.
 */
@Injectable()
export class OrderApiClient {
  constructor(@Inject(orderLookupConfig.KEY) private readonly config: ConfigType<typeof orderLookupConfig>) {}

  get configured(): boolean {
    return this.config.baseUrl !== undefined;
  }

  /** The order, or undefined when the API does not know it. Throws `OrderApiError` when the API fails. */
  async findOrder(number: string, signal: AbortSignal): Promise<Order | undefined> {
    if (this.config.baseUrl === undefined) throw new OrderApiError('ORDER_API_URL is not set');
    const response = await fetch(`${this.config.baseUrl}/orders/${encodeURIComponent(number)}`, {
      headers: {
        accept: 'application/json',
        ...(this.config.token ? { authorization: `Bearer ${this.config.token}` } : {}),
      },
      signal,
    });
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new OrderApiError(`the order API answered ${response.status}`, response.status);
    }
    const text = await response.text();
    if (text.length > MAX_BODY_BYTES) throw new OrderApiError('the order API answered with an oversized body');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new OrderApiError('the order API answered with something that is not JSON');
    }
    return orderOf(body, number);
  }
}

/** Reads the API's JSON (`{ number, status, estimated_delivery?, carrier?, items?: [] }`) defensively. */
function orderOf(body: unknown, requested: string): Order {
  if (typeof body !== 'object' || body === null) throw new OrderApiError('the order API answered with an unexpected body');
  const raw = body as Record<string, unknown>;
  if (typeof raw.status !== 'string') throw new OrderApiError('the order API answered without a status');
  const order: Order = { number: typeof raw.number === 'string' ? raw.number : requested, status: raw.status };
  if (typeof raw.estimated_delivery === 'string') order.estimatedDelivery = raw.estimated_delivery;
  if (typeof raw.carrier === 'string') order.carrier = raw.carrier;
  if (Array.isArray(raw.items)) order.itemCount = raw.items.length;
  return order;
}
