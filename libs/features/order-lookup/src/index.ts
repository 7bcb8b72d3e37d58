export { OrderLookupModule } from './order-lookup.module.js';
export { LookupOrderTool, LookupOrderArgs } from './lookup-order.tool.js';
export { OrderApiClient, OrderApiError, type Order } from './order-api.client.js';
export { orderLookupConfig } from './order-lookup.config.js';
