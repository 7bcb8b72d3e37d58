import type { Type } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import type { RealtimeToolHandler } from './tool.types.js';

export interface RealtimeToolOptions<Args extends object = object> {
  /** The function name the model calls: 1–64 letters, digits, `_` or `-`, unique in the application. */
  name: string;
  /** When (and when not) to call it, and what to tell the caller meanwhile: the model reads this. */
  description: string;
  /** The arguments DTO (class-validator decorators, `@ToolParam` descriptions). Omitted: the tool takes none. */
  parameters?: Type<Args>;
  /** Run timeout for this tool; default TOOL_TIMEOUT_MS. */
  timeoutMs?: number;
}

/** The discoverable metadata behind `@RealtimeTool()` (the registry finds tools by its key). */
export const RealtimeToolMetadata = DiscoveryService.createDecorator<RealtimeToolOptions>();

/**
 * Makes a class provider a tool the agent can call. The class must be registered as a plain singleton class
 * provider (`providers: [LookupOrderTool]`) in any module of the application; the registry finds it at start-up.
 *
 * ```ts
 * @RealtimeTool({ name: 'lookup_order', description: 'Looks up an order by its number.', parameters: LookupOrderArgs })
 * export class LookupOrderTool implements RealtimeToolHandler<LookupOrderArgs> {
 *   async execute(args: LookupOrderArgs, context: ToolContext) { … }
 * }
 * ```
 * The `execute` signature is checked against `parameters` at compile time.
 */
export function RealtimeTool<Args extends object = object>(options: RealtimeToolOptions<Args>) {
  return <T extends Type<RealtimeToolHandler<Args>>>(target: T): void => {
    RealtimeToolMetadata(options as RealtimeToolOptions)(target);
  };
}
