import 'reflect-metadata';
import { afterEach, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { Global, Injectable, Logger, Module, type INestApplicationContext, type Type } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { CallLink } from './call-link.js';
import { CallToolsListener } from './call-tools.listener.js';
import { RealtimeTool } from './realtime-tool.decorator.js';
import { ToolInvocationWriter } from './tool-invocation-writer.service.js';
import { ToolParam } from './tool-param.decorator.js';
import { ToolsModule } from './tools.module.js';
import { ToolRegistrationError } from './tools.errors.js';
import { ToolError, type RealtimeToolHandler, type ToolContext } from './tool.types.js';
import { CallControlError, CallControlErrorCode } from '#calls';
import { script, type ServerEvent } from '#emulator';
import { MetricsModule } from '#metrics';
import { EventBus, EventsModule, type BridgeEventName, type BridgeEvents, type RealtimeClientEvent } from '#events';
import { CallLeases, CallRecordsRepository, IdempotencyStore, LocalCallLeases, MemoryIdempotencyStore, ToolInvocations, type ToolInvocationRecord } from '#storage';
import { Clock, ResilienceModule, errorMessage } from '#resilience';
import { EnvironmentSandbox, ManualClock, settle, waitUntil } from '#testing';

// ---------------------------------------------------------------------------------------------------------------------
// Tools used by these tests

class EchoArgs {
  @IsString()
  @MaxLength(20)
  @ToolParam({ description: 'What to echo' })
  text!: string;

  @IsOptional()
  @IsString()
  api_key?: string;
}

const seen: Array<{ args: unknown; context: ToolContext }> = [];

@Injectable()
@RealtimeTool({ name: 'echo', description: 'Echoes its text.', parameters: EchoArgs })
class EchoTool implements RealtimeToolHandler<EchoArgs> {
  execute(args: EchoArgs, context: ToolContext) {
    seen.push({ args, context });
    return { echoed: args.text, session_token: 'tok-123' };
  }
}

@Injectable()
@RealtimeTool({ name: 'plain', description: 'Answers in words.' })
class PlainTool {
  execute() {
    return 'Order 4217 shipped.';
  }
}

@Injectable()
@RealtimeTool({ name: 'nothing', description: 'Answers nothing.' })
class NothingTool {
  execute() {
    return undefined;
  }
}

@Injectable()
@RealtimeTool({ name: 'explode', description: 'Throws.' })
class ExplodeTool {
  execute(): never {
    throw new Error('connect ECONNREFUSED 10.0.0.1:5432');
  }
}

@Injectable()
@RealtimeTool({ name: 'refuse', description: 'Throws a ToolError.' })
class RefuseTool {
  async execute() {
    throw new ToolError('That order belongs to another account.', 'not_allowed');
  }
}

let slowSignal: AbortSignal | undefined;
@Injectable()
@RealtimeTool({ name: 'slow', description: 'Never answers.', timeoutMs: 150 })
class SlowTool {
  execute(_args: object, context: ToolContext) {
    slowSignal = context.signal;
    return new Promise(() => {});
  }
}

@Injectable()
@RealtimeTool({ name: 'huge', description: 'Answers too much.' })
class HugeTool {
  execute() {
    return 'x'.repeat(40_000);
  }
}

@Injectable()
@RealtimeTool({ name: 'say_then_answer', description: 'Speaks a filler, then answers.' })
class SayTool {
  execute(_args: object, context: ToolContext) {
    context.call.say('One moment please.');
    return 'done';
  }
}

const TEST_TOOLS: Type[] = [EchoTool, PlainTool, NothingTool, ExplodeTool, RefuseTool, SlowTool, HugeTool, SayTool];

// ---------------------------------------------------------------------------------------------------------------------
// A fake call link, in-memory storage, and time

class FakeLink extends CallLink {
  readonly sent: Array<{ callId: string; event: RealtimeClientEvent }> = [];
  readonly hangups: string[] = [];
  readonly refers: Array<{ callId: string; uri: string }> = [];
  readonly closed = new Set<string>();
  referFailure?: Error;

  send(callId: string, event: RealtimeClientEvent): boolean {
    if (this.closed.has(callId)) return false;
    this.sent.push({ callId, event });
    return true;
  }
  async hangup(callId: string): Promise<void> {
    this.hangups.push(callId);
  }
  async refer(callId: string, uri: string): Promise<void> {
    if (this.referFailure) throw this.referFailure;
    this.refers.push({ callId, uri });
  }
  of(callId: string, type?: string): RealtimeClientEvent[] {
    return this.sent.filter((s) => s.callId === callId && (type === undefined || s.event.type === type)).map((s) => s.event);
  }
}

class MemoryToolInvocations extends ToolInvocations {
  readonly rows = new Map<string, ToolInvocationRecord>();
  readonly writes: ToolInvocationRecord[][] = [];
  async upsert(records: ToolInvocationRecord[]): Promise<void> {
    this.writes.push(records);
    for (const r of records) {
      const key = `${r.callId}/${r.toolCallId}`;
      const existing = this.rows.get(key);
      if (!existing || existing.status === 'running') this.rows.set(key, { ...r, id: existing?.id ?? r.id });
    }
  }
  async forCall(callId: string): Promise<ToolInvocationRecord[]> {
    return [...this.rows.values()].filter((r) => r.callId === callId);
  }
}

const env = new EnvironmentSandbox([
  'OPENAI_API_KEY',
  'TOOL_TIMEOUT_MS',
  'TOOLS_DISABLED',
  'END_CALL_MAX_WAIT_MS',
  'HUMAN_AGENT_NUMBER',
  'TRANSFER_SIP_URI',
  'TRANSFER_TIMEOUT_MS',
  'DTMF_INTER_DIGIT_MS',
  'DTMF_KEY_MAP',
]);

interface Fixture {
  app: INestApplicationContext;
  /** The tools' timeouts run on it: they fire only when a test moves it. */
  clock: ManualClock;
  bus: EventBus;
  link: FakeLink;
  store: MemoryToolInvocations;
  events: Array<{ name: BridgeEventName; payload: unknown }>;
  /** A call is accepted; `profile` overrides what its profile decided (its tools, its transfer target). */
  call(callId: string, profile?: Partial<BridgeEvents['call.accepted']>): void;
  play(callId: string, events: ServerEvent[]): void;
  waitFor<K extends BridgeEventName>(name: K, match?: (p: BridgeEvents[K]) => boolean, timeoutMs?: number): Promise<BridgeEvents[K]>;
  of<K extends BridgeEventName>(name: K, match?: (p: BridgeEvents[K]) => boolean): BridgeEvents[K][];
}

let fixture: Fixture | undefined;
async function boot(variables: Record<string, string> = {}, tools: Type[] = TEST_TOOLS): Promise<Fixture> {
  env.set({ OPENAI_API_KEY: 'sk-unit', DTMF_INTER_DIGIT_MS: '150', ...variables });
  const link = new FakeLink();
  const store = new MemoryToolInvocations();
  const clock = new ManualClock();
  @Global()
  @Module({
    providers: [
      { provide: ToolInvocations, useValue: store },
      { provide: IdempotencyStore, useClass: MemoryIdempotencyStore },
      // One process: no call is leased or taken over, so the records are never read.
      { provide: CallLeases, useClass: LocalCallLeases },
      { provide: CallRecordsRepository, useValue: {} },
    ],
    exports: [ToolInvocations, IdempotencyStore, CallLeases, CallRecordsRepository],
  })
  class FakeStorageModule {}
  @Module({ providers: tools })
  class TestToolsModule {}

  const moduleRef = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true }),
      ResilienceModule,
      EventsModule,
      MetricsModule,
      FakeStorageModule,
      ToolsModule,
      TestToolsModule,
    ],
  })
    .overrideProvider(CallLink)
    .useValue(link)
    .overrideProvider(Clock)
    .useValue(clock)
    .compile();
  const app = await moduleRef.init();
  const bus = app.get(EventBus);
  const events: Fixture['events'] = [];
  const waiters: Array<() => void> = [];
  for (const name of ['tool.started', 'tool.completed', 'call.dtmf'] as const) {
    bus.on(name, (payload) => {
      events.push({ name, payload });
      waiters.forEach((w) => w());
    });
  }
  const of: Fixture['of'] = (name, match = () => true) =>
    events.filter((e) => e.name === name && match(e.payload as never)).map((e) => e.payload as never);
  fixture = {
    app,
    clock,
    bus,
    link,
    store,
    events,
    call(callId, profile = {}) {
      bus.emit('call.accepted', {
        callId,
        context: { callId, callerNumber: '+14155550123', dialledNumber: '+18005551212', sipHeaders: [{ name: 'X-Test', value: '1' }] },
        acceptedAt: new Date(),
        profile: 'default',
        callerTranscription: true,
        ...profile,
      });
    },
    play(callId, serverEvents) {
      for (const event of serverEvents) bus.emit('realtime.event', { callId, event: structuredClone(event) });
    },
    of,
    waitFor(name, match = () => true, timeoutMs = 3000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = of(name, match)[0];
          if (found) {
            clearTimeout(timer);
            resolve(found);
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => reject(new Error(`no ${name} within ${timeoutMs} ms`)), timeoutMs);
        if (!check()) waiters.push(check);
      });
    },
  };
  return fixture;
}

/** The events of one scripted tool call (the emulator's own shapes). */
function toolCall(name: string, args: unknown, options: Parameters<ReturnType<typeof script>['toolCall']>[2] = {}): ServerEvent[] {
  return script()
    .toolCall(name, args, options)
    .steps.flatMap((step) => (step.kind === 'send' ? [step.event] : []));
}

const outputs = (f: Fixture, callId: string) =>
  f.link.of(callId, 'conversation.item.create').filter((e) => (e.item as { type: string }).type === 'function_call_output');
const outputFor = (f: Fixture, callId: string, toolCallId: string) =>
  outputs(f, callId)
    .map((e) => e.item as { call_id: string; output: string })
    .find((item) => item.call_id === toolCallId);

beforeAll(() => {
  jest.spyOn(Logger.prototype, 'log').mockImplementation(() => {});
  jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
});

afterEach(async () => {
  await fixture?.app.close();
  fixture = undefined;
  seen.length = 0;
  env.restore();
});

// ---------------------------------------------------------------------------------------------------------------------

describe('running tool calls', () => {
  const orders: Array<Array<'arguments_done' | 'output_item_done' | 'response_done'>> = [
    ['arguments_done', 'output_item_done', 'response_done'],
    ['output_item_done', 'response_done'],
    ['response_done'],
    ['arguments_done'],
  ];

  it.each(orders)('runs a call once whichever events report it (%s …)', async (...announce) => {
    const f = await boot();
    f.call('rtc_once');
    f.play('rtc_once', toolCall('echo', { text: 'hi' }, { callId: 'call_once', announce }));
    await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_once');
    // Reports that arrive later still change nothing.
    f.play('rtc_once', toolCall('echo', { text: 'hi' }, { callId: 'call_once' }));
    await settle();
    expect(seen).toHaveLength(1);
    expect(outputs(f, 'rtc_once')).toHaveLength(1);
    expect(f.of('tool.started')).toHaveLength(1);
  });

  it('runs on the first report even when response.done comes before the item events', async () => {
    const f = await boot();
    f.call('rtc_order');
    const events = toolCall('echo', { text: 'x' }, { callId: 'call_order' });
    const responseDone = events.filter((e) => e.type === 'response.done');
    const rest = events.filter((e) => e.type !== 'response.done');
    f.play('rtc_order', [...responseDone, ...rest]);
    await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_order');
    await settle();
    expect(seen).toHaveLength(1);
  });

  it('answers with a function_call_output whose output is a string, then one response.create after the response is done', async () => {
    const f = await boot();
    f.call('rtc_answer');
    const events = toolCall('echo', { text: 'hello' }, { callId: 'call_answer' });
    const beforeDone = events.filter((e) => e.type !== 'response.done');
    f.play('rtc_answer', beforeDone);
    await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_answer');
    expect(outputFor(f, 'rtc_answer', 'call_answer')?.output).toBe('{"echoed":"hello","session_token":"tok-123"}');
    // The response that carried the call is still in progress: a response.create now would be refused.
    expect(f.link.of('rtc_answer', 'response.create')).toHaveLength(0);
    f.play('rtc_answer', events.filter((e) => e.type === 'response.done'));
    expect(f.link.of('rtc_answer').map((e) => e.type)).toEqual(['conversation.item.create', 'response.create']);
  });

  it('gives the tool the call identity, the SIP data and its own call id', async () => {
    const f = await boot();
    f.call('rtc_context');
    f.play('rtc_context', toolCall('echo', { text: 'ctx' }, { callId: 'call_ctx' }));
    await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_ctx');
    const { args, context } = seen[0];
    expect(args).toBeInstanceOf(EchoArgs);
    expect(context).toMatchObject({
      callId: 'rtc_context',
      toolCallId: 'call_ctx',
      trigger: 'model',
      sip: { callId: 'rtc_context', callerNumber: '+14155550123', dialledNumber: '+18005551212' },
    });
    expect(context.signal.aborted).toBe(false);
    expect(Object.keys(context.call)).not.toContain('socket');
  });

  it('finds the name of an arguments.done that has none from the item announced before it', async () => {
    const f = await boot();
    f.call('rtc_noname');
    const events = toolCall('echo', { text: 'n' }, { callId: 'call_noname', announce: ['arguments_done'] }).map((e) =>
      e.type === 'response.function_call_arguments.done' ? { ...e, name: undefined } : e,
    );
    f.play('rtc_noname', events);
    const completed = await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_noname');
    expect(completed).toMatchObject({ name: 'echo', status: 'succeeded' });
  });

  it('sends one response.create for several calls of one response, once all have answered', async () => {
    const f = await boot();
    f.call('rtc_parallel');
    const fast = toolCall('plain', {}, { callId: 'call_fast', announce: ['arguments_done'] });
    const slow = toolCall('slow', {}, { callId: 'call_slow', announce: ['arguments_done'] });
    f.play('rtc_parallel', [...fast, ...slow].filter((e) => e.type !== 'response.done'));
    f.play('rtc_parallel', [{ type: 'response.done', response: { id: 'resp_1', status: 'completed', output: [] } }]);
    await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_fast');
    expect(f.link.of('rtc_parallel', 'response.create')).toHaveLength(0);
    await f.clock.whenPending(); // the slow tool's timeout (the fast one's is cleared)
    f.clock.advance(150);
    await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_slow');
    expect(f.link.of('rtc_parallel', 'response.create')).toHaveLength(1);
    expect(outputs(f, 'rtc_parallel')).toHaveLength(2);
  });

  it('gives plain text results as they are and nothing as {"status":"ok"}', async () => {
    const f = await boot();
    f.call('rtc_formats');
    f.play('rtc_formats', [...toolCall('plain', {}, { callId: 'call_plain' }), ...toolCall('nothing', {}, { callId: 'call_nothing' })]);
    await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_nothing');
    await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_plain');
    expect(outputFor(f, 'rtc_formats', 'call_plain')?.output).toBe('Order 4217 shipped.');
    expect(outputFor(f, 'rtc_formats', 'call_nothing')?.output).toBe('{"status":"ok"}');
  });

  it('lets a tool speak a filler before its answer (say)', async () => {
    const f = await boot();
    f.call('rtc_say');
    const events = toolCall('say_then_answer', {}, { callId: 'call_say' });
    f.play('rtc_say', events.filter((e) => e.type !== 'response.done'));
    await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_say');
    f.play('rtc_say', events.filter((e) => e.type === 'response.done'));
    const creates = f.link.of('rtc_say', 'response.create');
    expect(creates).toHaveLength(1);
    expect((creates[0].response as { instructions: string }).instructions).toContain('"One moment please."');
  });
});

describe('when a tool call goes wrong, the model is told and the call goes on', () => {
  const cases: Array<[string, string, { rawArguments?: string; args?: unknown }, string, string]> = [
    ['arguments that are not JSON', 'echo', { rawArguments: '{"text": ' }, 'invalid_arguments', 'invalid_arguments'],
    ['arguments that fail validation', 'echo', { args: { text: 42 } }, 'invalid_arguments', 'invalid_arguments'],
    ['an unknown tool', 'no_such_tool', { args: {} }, 'unknown_tool', 'unknown_tool'],
    ['a tool that throws', 'explode', { args: {} }, 'failed', 'tool_failed'],
    ['a tool that throws a ToolError', 'refuse', { args: {} }, 'failed', 'not_allowed'],
    ['a tool that hangs past its timeout', 'slow', { args: {} }, 'timed_out', 'timeout'],
    ['a result too large to give', 'huge', { args: {} }, 'failed', 'result_too_large'],
  ];

  it.each(cases)('%s', async (_label, name, input, status, code) => {
    const f = await boot();
    f.call('rtc_err');
    f.play('rtc_err', toolCall(name, input.args ?? {}, { callId: 'call_err', rawArguments: input.rawArguments }));
    if (name === 'slow') {
      await f.clock.whenPending();
      f.clock.advance(149);
      await settle();
      expect(f.of('tool.completed')).toEqual([]); // not before its 150 ms
      f.clock.advance(1);
    }
    const completed = await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_err');
    expect(completed.status).toBe(status);
    const output = JSON.parse(outputFor(f, 'rtc_err', 'call_err')!.output) as { error: { code: string; message: string } };
    expect(output.error.code).toBe(code);
    expect(output.error.message.length).toBeGreaterThan(5);
    expect(f.link.of('rtc_err', 'response.create')).toHaveLength(1);

    // The call goes on: the next tool call runs normally.
    f.play('rtc_err', toolCall('plain', {}, { callId: 'call_next' }));
    expect((await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_next')).status).toBe('succeeded');
  });

  it('tells the model what is wrong with its arguments, and which tools exist', async () => {
    const f = await boot();
    f.call('rtc_words');
    f.play('rtc_words', toolCall('echo', { text: 'x'.repeat(30) }, { callId: 'call_long' }));
    f.play('rtc_words', toolCall('ech', {}, { callId: 'call_typo' }));
    await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_typo');
    await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_long');
    expect(JSON.parse(outputFor(f, 'rtc_words', 'call_long')!.output).error.problems).toEqual([
      'text must be shorter than or equal to 20 characters',
    ]);
    expect(JSON.parse(outputFor(f, 'rtc_words', 'call_typo')!.output).error.message).toMatch(/no tool called "ech".*echo/);
  });

  it('never shows the model the message of an unexpected error', async () => {
    const f = await boot();
    f.call('rtc_hide');
    f.play('rtc_hide', toolCall('explode', {}, { callId: 'call_hide' }));
    await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_hide');
    expect(outputFor(f, 'rtc_hide', 'call_hide')!.output).not.toContain('ECONNREFUSED');
  });

  it('aborts the signal of a run that timed out', async () => {
    const f = await boot();
    f.call('rtc_abort');
    f.play('rtc_abort', toolCall('slow', {}, { callId: 'call_abort' }));
    await f.clock.whenPending();
    expect(slowSignal?.aborted).toBe(false);
    f.clock.advance(150);
    await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_abort');
    expect(slowSignal?.aborted).toBe(true);
  });
});

describe('publishing and storing runs', () => {
  it('publishes tool.started and tool.completed, and stores the run, with secrets redacted', async () => {
    const f = await boot();
    f.call('rtc_store');
    f.play('rtc_store', toolCall('echo', { text: 'hi', api_key: 'sk-live-SECRET' }, { callId: 'call_store' }));
    const completed = await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_store');
    const [started] = f.of('tool.started');
    expect(started).toMatchObject({ callId: 'rtc_store', toolCallId: 'call_store', name: 'echo', trigger: 'model' });
    expect(started.arguments).toEqual({ text: 'hi', api_key: '[redacted]' });
    expect(completed).toMatchObject({ status: 'succeeded', delivered: true, output: '{"echoed":"hi","session_token":"[redacted]"}' });
    expect(completed.durationMs).toBeGreaterThanOrEqual(0);
    expect(completed.finishedAt.getTime()).toBeGreaterThanOrEqual(completed.startedAt.getTime());
    // The model itself got the real result.
    expect(outputFor(f, 'rtc_store', 'call_store')!.output).toContain('tok-123');

    await f.app.get(ToolInvocationWriter).flush();
    const [record] = await f.store.forCall('rtc_store');
    expect(record).toMatchObject({
      callId: 'rtc_store',
      toolCallId: 'call_store',
      name: 'echo',
      status: 'succeeded',
      arguments: '{"text":"hi","api_key":"[redacted]"}',
      result: '{"echoed":"hi","session_token":"[redacted]"}',
    });
    expect(record.finishedAt).toBeInstanceOf(Date);
    expect(JSON.stringify(f.store.writes)).not.toContain('SECRET');
    expect(JSON.stringify(f.store.writes)).not.toContain('tok-123');
  });

  it('stores a run that could not be parsed without its arguments', async () => {
    const f = await boot();
    f.call('rtc_raw');
    f.play('rtc_raw', toolCall('echo', {}, { callId: 'call_raw', rawArguments: '{"password":"hunter2"' }));
    await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_raw');
    await f.app.get(ToolInvocationWriter).flush();
    const [record] = await f.store.forCall('rtc_raw');
    expect(record).toMatchObject({ status: 'invalid_arguments', arguments: null });
    expect(JSON.stringify(f.store.writes)).not.toContain('hunter2');
  });

  it('marks the output of a run that finished after the call ended as not delivered', async () => {
    const f = await boot({ TOOL_TIMEOUT_MS: '200' });
    f.call('rtc_gone');
    f.play('rtc_gone', toolCall('slow', {}, { callId: 'call_gone' }));
    f.link.closed.add('rtc_gone');
    f.bus.emit('call.ended', { callId: 'rtc_gone', reason: 'remote_closed', acceptedAt: new Date(), endedAt: new Date() });
    await f.clock.whenPending();
    f.clock.advance(150);
    const completed = await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_gone');
    expect(completed.delivered).toBe(false);
    expect(f.link.of('rtc_gone')).toEqual([]);
  });
});

describe('DTMF', () => {
  const dtmf = (key: string) => ({ type: 'input_audio_buffer.dtmf_event_received', event: key, received_at: 1763605109 });
  const userTexts = (f: Fixture, callId: string) =>
    f.link
      .of(callId, 'conversation.item.create')
      .map((e) => e.item as { type: string; role?: string; content?: Array<{ text: string }> })
      .filter((item) => item.type === 'message')
      .map((item) => `${item.role}: ${item.content![0].text}`);

  it('publishes every key as call.dtmf and hands the digits to the model on #', async () => {
    const f = await boot({ DTMF_INTER_DIGIT_MS: '5000' });
    f.call('rtc_keys');
    f.play('rtc_keys', ['1', '2', '3', '#'].map(dtmf));
    expect(f.of('call.dtmf').map((e) => e.key)).toEqual(['1', '2', '3', '#']);
    expect(f.of('call.dtmf')[0].receivedAt).toEqual(new Date(1763605109 * 1000));
    expect(userTexts(f, 'rtc_keys')).toEqual(['user: The caller pressed 1 2 3 #']);
    expect(f.link.of('rtc_keys', 'response.create')).toHaveLength(1);
  });

  it('hands the digits over after the inter-digit pause, in order', async () => {
    const f = await boot({ DTMF_INTER_DIGIT_MS: '100' });
    f.call('rtc_pause');
    f.play('rtc_pause', ['4', '2'].map(dtmf));
    expect(userTexts(f, 'rtc_pause')).toEqual([]);
    await f.clock.advanceAsync(99);
    expect(userTexts(f, 'rtc_pause')).toEqual([]);
    await f.clock.advanceAsync(101);
    f.play('rtc_pause', ['7'].map(dtmf));
    await f.clock.advanceAsync(200);
    expect(userTexts(f, 'rtc_pause')).toEqual(['user: The caller pressed 4 2', 'user: The caller pressed 7']);
  });

  it('ignores an event without a valid key', async () => {
    const f = await boot();
    f.call('rtc_badkey');
    f.play('rtc_badkey', [{ type: 'input_audio_buffer.dtmf_event_received', event: 'Z' }, { type: 'input_audio_buffer.dtmf_event_received' }]);
    expect(f.of('call.dtmf')).toEqual([]);
  });

  it('runs the tool a key is mapped to at once, and tells the model what happened', async () => {
    const f = await boot({ DTMF_KEY_MAP: '0:plain, *:nothing' });
    f.call('rtc_map');
    f.play('rtc_map', [dtmf('5'), dtmf('0')]);
    const completed = await f.waitFor('tool.completed', (e) => e.callId === 'rtc_map');
    expect(completed).toMatchObject({ name: 'plain', trigger: 'dtmf', toolCallId: 'dtmf_1', status: 'succeeded', delivered: true });
    expect(f.of('call.dtmf').map((e) => [e.key, e.action])).toEqual([
      ['5', undefined],
      ['0', 'plain'],
    ]);
    expect(userTexts(f, 'rtc_map')).toEqual([
      'user: The caller pressed 5',
      'system: The caller pressed 0, which ran the plain tool. Its result: Order 4217 shipped.',
    ]);
    // No function_call_output: no function call asked for this run.
    expect(outputs(f, 'rtc_map')).toEqual([]);
  });

  it.each([
    ['a tool that does not exist', '0:no_such_tool', /which no tool is called/],
    ['a tool that is off', '0:transfer_to_human', /which is off \(not configured\)/],
    ['a tool that needs arguments', '0:echo', /which needs arguments/],
  ])('refuses to start when DTMF_KEY_MAP maps a key to %s', async (_label, keyMap, message) => {
    const error = await boot({ DTMF_KEY_MAP: keyMap }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ToolRegistrationError);
    expect(errorMessage(error)).toMatch(message);
  });
});

describe('end_call', () => {
  it('hangs up only after the goodbye that follows it has finished playing', async () => {
    const f = await boot({ END_CALL_MAX_WAIT_MS: '5000' });
    f.call('rtc_bye');
    f.play('rtc_bye', toolCall('end_call', { reason: 'caller said goodbye' }, { callId: 'call_bye' }));
    await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_bye');
    expect(JSON.parse(outputFor(f, 'rtc_bye', 'call_bye')!.output)).toMatchObject({ status: 'ending_call' });
    expect(f.link.of('rtc_bye', 'response.create')).toHaveLength(1);

    f.play('rtc_bye', [
      { type: 'response.created', response: { id: 'resp_bye' } },
      { type: 'output_audio_buffer.started', response_id: 'resp_bye' },
      { type: 'response.done', response: { id: 'resp_bye', status: 'completed' } },
    ]);
    await f.clock.advanceAsync(4999); // the goodbye plays on, for as long as END_CALL_MAX_WAIT_MS allows
    expect(f.link.hangups).toEqual([]);
    f.play('rtc_bye', [{ type: 'output_audio_buffer.stopped', response_id: 'resp_bye' }]);
    await f.clock.advanceAsync(0);
    expect(f.link.hangups).toEqual(['rtc_bye']);
  });

  it('hangs up after END_CALL_MAX_WAIT_MS when the goodbye never finishes', async () => {
    const f = await boot({ END_CALL_MAX_WAIT_MS: '200' });
    f.call('rtc_stuck');
    f.play('rtc_stuck', toolCall('end_call', {}, { callId: 'call_stuck' }));
    f.play('rtc_stuck', [
      { type: 'response.created', response: { id: 'resp_stuck' } },
      { type: 'output_audio_buffer.started', response_id: 'resp_stuck' },
    ]);
    await f.clock.advanceAsync(199);
    expect(f.link.hangups).toEqual([]);
    await f.clock.advanceAsync(1);
    expect(f.link.hangups).toEqual(['rtc_stuck']);
  });

  it('can be switched off with TOOLS_DISABLED', async () => {
    const f = await boot({ TOOLS_DISABLED: 'end_call' });
    expect(f.app.get(CallToolsListener)).toBeDefined();
    f.call('rtc_off');
    f.play('rtc_off', toolCall('end_call', {}, { callId: 'call_off' }));
    expect((await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_off')).status).toBe('unknown_tool');
  });
});

describe("the call's profile decides which tools it may run", () => {
  it('refuses a tool its profile does not offer, telling the model which ones it has, and runs the others', async () => {
    const f = await boot();
    f.call('rtc_narrow', { profile: 'acme', tools: ['plain', 'echo'] });
    f.play('rtc_narrow', toolCall('nothing', {}, { callId: 'call_refused' }));
    const refused = await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_refused');
    expect(refused.status).toBe('unknown_tool');
    const output = JSON.parse(outputFor(f, 'rtc_narrow', 'call_refused')!.output) as { error: { code: string; message: string } };
    expect(output.error).toEqual({ code: 'tool_not_allowed', message: 'The tool "nothing" is not available on this line. Tools: echo, plain.' });

    f.play('rtc_narrow', toolCall('plain', {}, { callId: 'call_allowed' }));
    expect((await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_allowed')).status).toBe('succeeded');

    // Another call, without a profile decision, may run every enabled tool.
    f.call('rtc_wide');
    f.play('rtc_wide', toolCall('nothing', {}, { callId: 'call_wide' }));
    expect((await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_wide')).status).toBe('succeeded');
  });

  it('still calls a tool nobody declared unknown', async () => {
    const f = await boot();
    f.call('rtc_typo', { tools: ['plain'] });
    f.play('rtc_typo', toolCall('plian', {}, { callId: 'call_typo' }));
    await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_typo');
    expect(JSON.parse(outputFor(f, 'rtc_typo', 'call_typo')!.output).error.code).toBe('unknown_tool');
  });

  it("runs transfer_to_human for a profile with its own target although the environment has none", async () => {
    const f = await boot({ TRANSFER_TIMEOUT_MS: '500' });
    f.call('rtc_own_target', { profile: 'acme', tools: ['transfer_to_human'], transfer: { humanAgentNumber: '+14155550111' } });
    f.play('rtc_own_target', toolCall('transfer_to_human', {}, { callId: 'call_own_target' }));
    await waitUntil(() => f.link.refers[0]);
    f.link.closed.add('rtc_own_target');
    f.bus.emit('call.ended', { callId: 'rtc_own_target', reason: 'remote_closed', acceptedAt: new Date(), endedAt: new Date() });
    expect((await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_own_target')).status).toBe('succeeded');
    expect(f.link.refers).toEqual([{ callId: 'rtc_own_target', uri: 'tel:+14155550111' }]);
  });
});

describe('transfer_to_human (SIP REFER)', () => {
  it('is offered only when a target is configured', async () => {
    const f = await boot();
    f.call('rtc_no_target');
    f.play('rtc_no_target', toolCall('transfer_to_human', {}, { callId: 'call_no_target' }));
    expect((await f.waitFor('tool.completed')).status).toBe('unknown_tool');
  });

  it.each([
    [{ HUMAN_AGENT_NUMBER: '+14155550100' }, 'tel:+14155550100'],
    [{ HUMAN_AGENT_NUMBER: '+14155550100', TRANSFER_SIP_URI: 'sip:desk@pbx.example.com' }, 'sip:desk@pbx.example.com'],
  ])('refers the call to the configured target (%o) and is done when the call leaves', async (variables, target) => {
    const f = await boot(variables);
    f.call('rtc_xfer');
    f.play('rtc_xfer', toolCall('transfer_to_human', { reason: 'wants a person' }, { callId: 'call_xfer' }));
    await waitUntil(() => f.link.refers[0]);
    expect(f.link.refers).toEqual([{ callId: 'rtc_xfer', uri: target }]);
    f.link.closed.add('rtc_xfer');
    f.bus.emit('call.ended', { callId: 'rtc_xfer', reason: 'remote_closed', acceptedAt: new Date(), endedAt: new Date() });
    const completed = await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_xfer');
    expect(completed).toMatchObject({ status: 'succeeded', delivered: false });
  });

  it('waits for the agent to finish speaking before the REFER', async () => {
    const f = await boot({ HUMAN_AGENT_NUMBER: '+14155550100' });
    f.call('rtc_wait');
    f.play('rtc_wait', [
      { type: 'response.created', response: { id: 'resp_words' } },
      { type: 'output_audio_buffer.started', response_id: 'resp_words' },
    ]);
    f.play('rtc_wait', toolCall('transfer_to_human', {}, { callId: 'call_wait' }).filter((e) => e.type !== 'response.created'));
    await f.clock.advanceAsync(4000); // the agent speaks on (the tool waits up to 5 s for it)
    expect(f.link.refers).toEqual([]);
    f.play('rtc_wait', [
      { type: 'response.done', response: { id: 'resp_words' } },
      { type: 'output_audio_buffer.stopped', response_id: 'resp_words' },
    ]);
    await f.clock.advanceAsync(0);
    expect(f.link.refers).toHaveLength(1);
  });

  it('tells the model the transfer did not go through when the call is still here after TRANSFER_TIMEOUT_MS', async () => {
    const f = await boot({ HUMAN_AGENT_NUMBER: '+14155550100', TRANSFER_TIMEOUT_MS: '500' });
    f.call('rtc_stay');
    f.play('rtc_stay', toolCall('transfer_to_human', {}, { callId: 'call_stay' }));
    await f.clock.advanceAsync(499);
    expect(f.link.refers).toHaveLength(1);
    expect(f.of('tool.completed')).toEqual([]);
    await f.clock.advanceAsync(1);
    const completed = await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_stay');
    expect(completed.status).toBe('failed');
    const output = JSON.parse(outputFor(f, 'rtc_stay', 'call_stay')!.output);
    expect(output.error.code).toBe('transfer_failed');
    expect(output.error.message).toMatch(/did not go through/);
    expect(f.link.of('rtc_stay', 'response.create')).toHaveLength(1);
  });

  it('tells the model when OpenAI refuses the REFER', async () => {
    const f = await boot({ TRANSFER_SIP_URI: 'sip:desk@pbx.example.com' });
    f.link.referFailure = new CallControlError(CallControlErrorCode.Upstream, 'refer failed: 400', 400);
    f.call('rtc_refused');
    f.play('rtc_refused', toolCall('transfer_to_human', {}, { callId: 'call_refused' }));
    const completed = await f.waitFor('tool.completed', (e) => e.toolCallId === 'call_refused');
    expect(completed.status).toBe('failed');
    expect(JSON.parse(outputFor(f, 'rtc_refused', 'call_refused')!.output).error.message).toMatch(/could not be started/);
  });

  it('runs from the key map without the model', async () => {
    const f = await boot({ HUMAN_AGENT_NUMBER: '+14155550100', DTMF_KEY_MAP: '0:transfer_to_human' });
    f.call('rtc_zero');
    f.play('rtc_zero', [{ type: 'input_audio_buffer.dtmf_event_received', event: '0', received_at: 1 }]);
    await waitUntil(() => f.link.refers[0]);
    expect(f.link.refers).toEqual([{ callId: 'rtc_zero', uri: 'tel:+14155550100' }]);
  });
});
