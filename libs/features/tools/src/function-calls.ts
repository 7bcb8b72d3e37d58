import type { RealtimeServerEvent } from '#events';

/** A finished function call, as one of the three events that report it describes it. */
export interface ReportedFunctionCall {
  toolCallId: string;
  /** Absent from some `response.function_call_arguments.done` events (beta): look it up by `itemId`. */
  name?: string;
  arguments: string;
  itemId?: string;
}

const TOOL_CALL_ID = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * The finished function calls an event reports. The Realtime API reports each one up to three times —
 * `response.function_call_arguments.done`, `response.output_item.done` and `response.done` — in an order nobody
 * promises; callers act on the first and ignore the rest (by `toolCallId`). Calls of a cancelled or incomplete
 * response item are not reported: their arguments may be cut short.
 */
export function finishedFunctionCalls(event: RealtimeServerEvent): ReportedFunctionCall[] {
  switch (event.type) {
    case 'response.function_call_arguments.done': {
      const call = reported(event.call_id, event.name, event.arguments, event.item_id);
      return call ? [call] : [];
    }
    case 'response.output_item.done': {
      const call = fromItem(event.item);
      return call ? [call] : [];
    }
    case 'response.done': {
      const output = (event.response as { output?: unknown } | undefined)?.output;
      if (!Array.isArray(output)) return [];
      return output.flatMap((item) => {
        const call = fromItem(item);
        return call ? [call] : [];
      });
    }
    default:
      return [];
  }
}

/** `item_id → name` of a function call item being announced (for `arguments.done` events without a name). */
export function announcedFunctionCall(event: RealtimeServerEvent): { itemId: string; name: string } | undefined {
  if (event.type !== 'response.output_item.added' && event.type !== 'conversation.item.added') return undefined;
  const item = event.item as { type?: unknown; id?: unknown; name?: unknown } | undefined;
  if (item?.type !== 'function_call' || typeof item.id !== 'string' || typeof item.name !== 'string') return undefined;
  return { itemId: item.id, name: item.name };
}

function fromItem(value: unknown): ReportedFunctionCall | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const item = value as { type?: unknown; status?: unknown; call_id?: unknown; name?: unknown; arguments?: unknown; id?: unknown };
  if (item.type !== 'function_call' || item.status === 'incomplete' || item.status === 'in_progress') return undefined;
  return reported(item.call_id, item.name, item.arguments, item.id);
}

function reported(callId: unknown, name: unknown, args: unknown, itemId: unknown): ReportedFunctionCall | undefined {
  if (typeof callId !== 'string' || !TOOL_CALL_ID.test(callId)) return undefined;
  return {
    toolCallId: callId,
    ...(typeof name === 'string' && name.length > 0 ? { name } : {}),
    // Always a JSON string on the wire; anything else is passed on as JSON, to be judged like any argument.
    arguments: typeof args === 'string' ? args : (JSON.stringify(args) ?? 'null'),
    ...(typeof itemId === 'string' ? { itemId } : {}),
  };
}
