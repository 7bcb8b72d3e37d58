import { IsOptional, IsString, IsUrl, MaxLength } from 'class-validator';
import { defineConfig } from '#config';

class OrderLookupEnv {
  /** Base URL of the order API; the `lookup_order` tool is offered only when it is set. */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  ORDER_API_URL?: string;

  /** Bearer token for the order API (never logged, never shown to the model). */
  @IsOptional()
  @IsString()
  @MaxLength(4096)
  ORDER_API_TOKEN?: string;
}

export const orderLookupConfig = defineConfig('orderLookup', OrderLookupEnv, (env) => ({
  baseUrl: env.ORDER_API_URL?.replace(/\/+$/, ''),
  token: env.ORDER_API_TOKEN,
}));
