import { existsSync, mkdtempSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startBridge } from '#bridge';
import { script, newWebhookSecret, type EmulatedCall } from '#emulator';
import { EventBus, type BridgeEvents } from '#events';
import { errorMessage } from '#resilience';
import { ToolInvocations } from '#storage';
import { ToolInvocationWriter, ToolRegistrationError } from '#tools';
import { withEnv } from '#testing';
import { startHarness, TEST_API_KEY, type Harness } from './support/harness.js';
import { BUILT_MAIN, runBuiltBridge } from './support/process.js';

const ORDER_API_TOKEN = 'order-api-token-e2e-SECRET';

/**
 * A stand-in for a team's order API: 4217 is shipped, 5000 answers 500, 7777 never answers in time, anything
 * else is unknown (404).
 */
class FakeOrderApi {
  readonly requests: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
  private server?: Server;
  private readonly timers = new Set<NodeJS.Timeout>();

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.requests.push({ path: req.url ?? '', headers: req.headers });
      const number = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (number === '4217') {
        reply(200, { number: '4217', status: 'shipped', carrier: 'UPS', estimated_delivery: '2026-01-19', items: [{}, {}], customer_email: 'a@b.c' });
      } else if (number === '5000') {
        reply(500, { error: 'database unavailable' });
      } else if (number === '7777') {
        const timer = setTimeout(() => reply(200, { status: 'late' }), 5000);
        this.timers.add(timer);
      } else {
        reply(404, { error: 'not found' });
      }
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/v1`;
  }

  requestsFor(number: string) {
    return this.requests.filter((r) => r.path === `/v1/orders/${number}`);
  }

  async stop(): Promise<void> {
    this.timers.forEach(clearTimeout);
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

/** The tool facts the bridge publishes (the harness recorder does not follow them). */
function recordToolEvents(h: Harness) {
  const completed: Array<BridgeEvents['tool.completed']> = [];
  const started: Array<BridgeEvents['tool.started']> = [];
  const bus = h.app.get(EventBus);
  bus.on('tool.completed', (e) => completed.push(e));
  bus.on('tool.started', (e) => started.push(e));
  return { completed, started };
}

function functionOutputs(call: EmulatedCall): Array<{ call_id: string; output: string }> {
  return call.clientEvents
    .filter((e) => e.type === 'conversation.item.create' && (e.item as { type?: string }).type === 'function_call_output')
    .map((e) => e.item as { call_id: string; output: string });
}

const outputOf = (call: EmulatedCall, toolCallId: string) => {
  const found = functionOutputs(call).find((o) => o.call_id === toolCallId);
  if (!found) throw new Error(`no function_call_output for ${toolCallId}`);
  expect(typeof found.output).toBe('string');
  return JSON.parse(found.output) as Record<string, any>;
};

describe('tools as Nest providers, on real calls', () => {
  let h: Harness;
  let orders: FakeOrderApi;
  let tools: ReturnType<typeof recordToolEvents>;

  beforeAll(async () => {
    orders = new FakeOrderApi();
    const orderApiUrl = await orders.start();
    h = await startHarness({
      ORDER_API_URL: orderApiUrl,
      ORDER_API_TOKEN,
      TOOL_TIMEOUT_MS: '400',
      HUMAN_AGENT_NUMBER: '+14155550100',
    });
    tools = recordToolEvents(h);
  });

  afterAll(async () => {
    await h?.close();
    await orders?.stop();
  });

  it('offers every enabled tool in the accept body, with the JSON Schema derived from its DTO', async () => {
    const { call } = await h.emulator.placeCall(h.webhookUrl);
    await call.connected;
    const body = h.emulator.requestsFor(call.callId, 'accept')[0].body as { tools: any[]; tool_choice: string };
    expect(body.tool_choice).toBe('auto');
    expect(body.tools.map((t) => t.name)).toEqual(['end_call', 'lookup_order', 'transfer_to_human']);
    const lookup = body.tools.find((t) => t.name === 'lookup_order');
    expect(lookup).toEqual({
      type: 'function',
      name: 'lookup_order',
      description: expect.stringContaining('Looks up an order'),
      parameters: {
        type: 'object',
        properties: {
          order_number: {
            type: 'string',
            pattern: '^[A-Za-z0-9]{3,32}$',
            description: expect.any(String),
            examples: ['4217'],
          },
        },
        required: ['order_number'],
        additionalProperties: false,
      },
    });
    call.hangUp();
  });

  it('runs a tool call reported by all three events once, answers with a string output, then response.create', async () => {
    const conversation = script()
      .callerSays('Where is order 4217?')
      .toolCall('lookup_order', { order_number: '4217' }, { callId: 'call_lookup' })
      .expect('response.create')
      .agentSays('Order 4217 shipped with UPS and arrives on the nineteenth.')
      .hangup();
    const { call } = await h.emulator.placeCall(h.webhookUrl, { script: conversation });
    await h.bus.waitFor('call.ended', (e) => e.callId === call.callId);
    expect(call.scriptError).toBeUndefined();

    expect(orders.requestsFor('4217')).toHaveLength(1);
    expect(orders.requestsFor('4217')[0].headers.authorization).toBe(`Bearer ${ORDER_API_TOKEN}`);
    expect(functionOutputs(call)).toHaveLength(1);
    expect(outputOf(call, 'call_lookup')).toEqual({
      found: true,
      order_number: '4217',
      status: 'shipped',
      carrier: 'UPS',
      estimated_delivery: '2026-01-19',
      item_count: 2,
    });
    const sent = call.clientEvents.map((e) => e.type);
    expect(sent).toEqual(['conversation.item.create', 'response.create']);

    const runs = tools.completed.filter((e) => e.callId === call.callId);
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ name: 'lookup_order', toolCallId: 'call_lookup', status: 'succeeded', delivered: true, trigger: 'model' });

    await h.app.get(ToolInvocationWriter).flush();
    const stored = await h.app.get(ToolInvocations).forCall(call.callId);
    expect(stored).toEqual([
      expect.objectContaining({
        toolCallId: 'call_lookup',
        name: 'lookup_order',
        status: 'succeeded',
        arguments: '{"order_number":"4217"}',
        result: expect.stringContaining('"status":"shipped"'),
        finishedAt: expect.any(Date),
      }),
    ]);
  });

  it('answers bad JSON, invalid arguments, an unknown tool, a tool that throws and one that hangs with errors, and the call goes on', async () => {
    let n = 0;
    const conversation = script()
      .toolCall('lookup_order', {}, { callId: 'call_badjson', rawArguments: '{"order_number": ' })
      .expect('response.create', 5000, ++n)
      .toolCall('lookup_order', { order_number: '1' }, { callId: 'call_invalid' })
      .expect('response.create', 5000, ++n)
      .toolCall('check_stock', { sku: 'A1' }, { callId: 'call_unknown' })
      .expect('response.create', 5000, ++n)
      .toolCall('lookup_order', { order_number: '5000' }, { callId: 'call_throws' })
      .expect('response.create', 5000, ++n)
      .toolCall('lookup_order', { order_number: '7777' }, { callId: 'call_hangs' })
      .expect('response.create', 5000, ++n)
      .toolCall('lookup_order', { order_number: '4217' }, { callId: 'call_fine' })
      .expect('response.create', 5000, ++n)
      .agentSays('Order 4217 shipped.')
      .hangup();
    const { call } = await h.emulator.placeCall(h.webhookUrl, { script: conversation });
    const ended = await h.bus.waitFor('call.ended', (e) => e.callId === call.callId, 15_000);
    expect(call.scriptError).toBeUndefined();
    expect(ended.reason).toBe('remote_closed');

    expect(outputOf(call, 'call_badjson').error).toMatchObject({ code: 'invalid_arguments', message: 'The arguments are not valid JSON.' });
    expect(outputOf(call, 'call_invalid').error).toMatchObject({
      code: 'invalid_arguments',
      problems: ['order_number must be 3 to 32 letters or digits'],
    });
    expect(outputOf(call, 'call_unknown').error).toMatchObject({ code: 'unknown_tool' });
    expect(outputOf(call, 'call_unknown').error.message).toContain('lookup_order');
    expect(outputOf(call, 'call_throws').error).toMatchObject({ code: 'tool_failed' });
    expect(JSON.stringify(outputOf(call, 'call_throws'))).not.toContain('500');
    expect(outputOf(call, 'call_hangs').error).toMatchObject({ code: 'timeout' });
    expect(outputOf(call, 'call_fine')).toMatchObject({ found: true, status: 'shipped' });
    expect(call.clientEvents.filter((e) => e.type === 'response.create')).toHaveLength(6);
    // Invalid arguments never reach the tool; the failing and hanging ones were called once.
    expect(orders.requestsFor('1')).toHaveLength(0);
    expect(orders.requestsFor('5000')).toHaveLength(1);
    expect(orders.requestsFor('7777')).toHaveLength(1);

    const statuses = Object.fromEntries(tools.completed.filter((e) => e.callId === call.callId).map((e) => [e.toolCallId, e.status]));
    expect(statuses).toEqual({
      call_badjson: 'invalid_arguments',
      call_invalid: 'invalid_arguments',
      call_unknown: 'unknown_tool',
      call_throws: 'failed',
      call_hangs: 'timed_out',
      call_fine: 'succeeded',
    });
  });

  it('stores and publishes runs with secrets in the arguments redacted', async () => {
    const conversation = script()
      .toolCall('lookup_order', { order_number: '4217', api_token: 'sk-live-LEAK' }, { callId: 'call_secret' })
      .expect('response.create')
      .hangup();
    const { call } = await h.emulator.placeCall(h.webhookUrl, { script: conversation });
    await h.bus.waitFor('call.ended', (e) => e.callId === call.callId);
    await h.app.get(ToolInvocationWriter).flush();
    const [stored] = await h.app.get(ToolInvocations).forCall(call.callId);
    expect(stored.arguments).toBe('{"order_number":"4217","api_token":"[redacted]"}');
    const started = tools.started.find((e) => e.callId === call.callId);
    expect(started?.arguments).toEqual({ order_number: '4217', api_token: '[redacted]' });
    expect(JSON.stringify(tools.completed.filter((e) => e.callId === call.callId))).not.toContain('LEAK');
  });
});

describe('tool declarations that stop the start', () => {
  const base = () => ({
    OPENAI_API_KEY: TEST_API_KEY,
    OPENAI_WEBHOOK_SECRET: newWebhookSecret(),
    OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
    HOST: '127.0.0.1',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'bridge-tools-e2e-')),
  });

  async function startFailure(env: Record<string, string>): Promise<unknown> {
    return withEnv({ ...base(), ...env }, () => startBridge({ logger: false, port: 0 })).then(
      async (app) => {
        await app.close();
        return undefined;
      },
      (error: unknown) => error,
    );
  }

  it('refuses TOOLS_DISABLED naming a tool that does not exist', async () => {
    const error = await startFailure({ TOOLS_DISABLED: 'end_cal' });
    expect(error).toBeInstanceOf(ToolRegistrationError);
    expect(errorMessage(error)).toContain('TOOLS_DISABLED names "end_cal"');
  });

  it('refuses a DTMF key map that names a tool which is off', async () => {
    const error = await startFailure({ DTMF_KEY_MAP: '0:transfer_to_human' });
    expect(error).toBeInstanceOf(ToolRegistrationError);
    expect(errorMessage(error)).toContain('maps 0 to "transfer_to_human", which is off (not configured)');
  });

  (existsSync(BUILT_MAIN) ? it : it.skip)('exits 1 as a built process, saying why', async () => {
    const bridge = runBuiltBridge({ ...base(), PORT: '0', DTMF_KEY_MAP: '9:lookup_order' });
    // Should it start after all, it must not outlive the test.
    const guard = setTimeout(() => bridge.child.kill('SIGKILL'), 20_000);
    const { code } = await bridge.exited.finally(() => clearTimeout(guard));
    expect(code).toBe(1);
    expect(bridge.output()).toContain('Tools are declared wrongly');
    expect(bridge.output()).toContain('maps 9 to "lookup_order", which is off (not configured)');
  });
});

