import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { LookupOrderTool } from './lookup-order.tool.js';
import { OrderApiClient } from './order-api.client.js';
import { orderLookupConfig } from './order-lookup.config.js';

/** The worked example of a tool of your own (docs/tools.md): order status from an HTTP order API. */
@Module({
  imports: [ConfigModule.forFeature(orderLookupConfig)],
  providers: [OrderApiClient, LookupOrderTool],
})
export class OrderLookupModule {}
