import { describe, expect, it } from '@jest/globals';
import { announcedFunctionCall, finishedFunctionCalls } from './function-calls.js';

const item = { id: 'item_1', type: 'function_call', call_id: 'call_1', name: 'lookup_order', arguments: '{"a":1}', status: 'completed' };

describe('finishedFunctionCalls', () => {
  it('reads response.function_call_arguments.done', () => {
    expect(
      finishedFunctionCalls({
        type: 'response.function_call_arguments.done',
        call_id: 'call_1',
        item_id: 'item_1',
        name: 'lookup_order',
        arguments: '{"a":1}',
      }),
    ).toEqual([{ toolCallId: 'call_1', name: 'lookup_order', arguments: '{"a":1}', itemId: 'item_1' }]);
  });

  it('reads an arguments.done without a name (the name comes from the item)', () => {
    expect(finishedFunctionCalls({ type: 'response.function_call_arguments.done', call_id: 'call_1', item_id: 'item_1', arguments: '{}' })).toEqual([
      { toolCallId: 'call_1', arguments: '{}', itemId: 'item_1' },
    ]);
  });

  it('reads response.output_item.done and every function call of response.done', () => {
    const expected = { toolCallId: 'call_1', name: 'lookup_order', arguments: '{"a":1}', itemId: 'item_1' };
    expect(finishedFunctionCalls({ type: 'response.output_item.done', item })).toEqual([expected]);
    expect(
      finishedFunctionCalls({
        type: 'response.done',
        response: {
          output: [{ type: 'message', id: 'm' }, item, { ...item, id: 'item_2', call_id: 'call_2', name: 'end_call', arguments: '' }],
        },
      }),
    ).toEqual([expected, { toolCallId: 'call_2', name: 'end_call', arguments: '', itemId: 'item_2' }]);
  });

  it('ignores incomplete items, messages, missing or odd call ids, and other events', () => {
    expect(finishedFunctionCalls({ type: 'response.output_item.done', item: { ...item, status: 'incomplete' } })).toEqual([]);
    expect(finishedFunctionCalls({ type: 'response.output_item.done', item: { type: 'message' } })).toEqual([]);
    expect(finishedFunctionCalls({ type: 'response.output_item.done', item: { ...item, call_id: 'bad id with spaces' } })).toEqual([]);
    expect(finishedFunctionCalls({ type: 'response.done', response: { output: 'nope' } })).toEqual([]);
    expect(finishedFunctionCalls({ type: 'response.done' })).toEqual([]);
    expect(finishedFunctionCalls({ type: 'response.function_call_arguments.delta', call_id: 'call_1', delta: '{' })).toEqual([]);
  });

  it('passes arguments that are not a string on as JSON text', () => {
    expect(finishedFunctionCalls({ type: 'response.output_item.done', item: { ...item, arguments: { a: 1 } } })[0].arguments).toBe('{"a":1}');
    expect(finishedFunctionCalls({ type: 'response.output_item.done', item: { ...item, arguments: undefined } })[0].arguments).toBe('null');
  });
});

describe('announcedFunctionCall', () => {
  it('remembers the name of a function call item when it is added', () => {
    expect(announcedFunctionCall({ type: 'response.output_item.added', item: { ...item, status: 'in_progress' } })).toEqual({
      itemId: 'item_1',
      name: 'lookup_order',
    });
    expect(announcedFunctionCall({ type: 'conversation.item.added', item: { type: 'message', id: 'x' } })).toBeUndefined();
  });
});
