/**
 * What running a tool call adds: from the `response.function_call_arguments.done` event being published on the
 * bus (as the sideband session publishes every event) to the `function_call_output` being handed to the call's
 * sideband, for a no-op tool. The real ToolsModule runs in-process (registry, listener, argument validation with
 * class-validator, executor, events, the storage queue); only the edges are fakes: the sideband `send` (it
 * JSON-encodes the event, as the session does, but writes no socket) and the tool-invocation store (in memory).
 * Every tool call is reported three times (arguments.done, output_item.done, response.done), as OpenAI does.
 */
import { performance } from 'node:perf_hooks';
import { Global, Injectable, Module, type LoggerService } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { MetricsModule } from '#metrics';
import { EventBus, EventsModule, type RealtimeClientEvent, type RealtimeServerEvent } from '#events';
import { ResilienceModule } from '#resilience';
import { IdempotencyStore, MemoryIdempotencyStore, ToolInvocations, type ToolInvocationRecord } from '#storage';
import { CallLink, RealtimeTool, ToolParam, ToolsModule, type RealtimeToolHandler } from '#tools';
import type { BenchResult } from './report.js';

const CALLS = 1000;

class NoopArgs {
  @IsString()
  @MaxLength(32)
  @ToolParam({ description: 'An order number' })
  order_number!: string;

  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(10)
  quantity?: number;
}

@Injectable()
@RealtimeTool({ name: 'noop', description: 'Does nothing.', parameters: NoopArgs })
class NoopTool implements RealtimeToolHandler<NoopArgs> {
  execute(args: NoopArgs) {
    return { ok: true, order_number: args.order_number };
  }
}

/** The sideband: records when each tool output leaves, and nothing else. */
class TimingLink extends CallLink {
  readonly sentAt = new Map<string, number>();
  send(_callId: string, event: RealtimeClientEvent): boolean {
    JSON.stringify(event); // the session's framing cost
    if (event.type === 'conversation.item.create') this.sentAt.set((event.item as { call_id: string }).call_id, performance.now());
    return true;
  }
  async hangup(): Promise<void> {}
  async refer(): Promise<void> {}
}

class NullInvocations extends ToolInvocations {
  stored = 0;
  async upsert(records: ToolInvocationRecord[]): Promise<void> {
    this.stored += records.length;
  }
  async forCall(): Promise<ToolInvocationRecord[]> {
    return [];
  }
}

const silent: LoggerService = { log() {}, error() {}, warn() {}, debug() {}, verbose() {}, fatal() {} };

function toolCallEvents(toolCallId: string, n: number): RealtimeServerEvent[] {
  const responseId = `resp_${n}`;
  const itemId = `item_${n}`;
  const args = JSON.stringify({ order_number: String(4000 + (n % 1000)), quantity: 1 + (n % 5) });
  const item = { id: itemId, object: 'realtime.item', type: 'function_call', call_id: toolCallId, name: 'noop', status: 'completed', arguments: args };
  return [
    { type: 'response.function_call_arguments.done', response_id: responseId, item_id: itemId, output_index: 0, call_id: toolCallId, name: 'noop', arguments: args },
    { type: 'response.output_item.done', response_id: responseId, output_index: 0, item },
    { type: 'response.done', response: { id: responseId, object: 'realtime.response', status: 'completed', output: [item] } },
  ];
}

interface Measured {
  overheads: number[];
}

export async function benchToolCalls(): Promise<BenchResult> {
  // The configuration the module reads at start-up (restored right after).
  const env: Record<string, string> = { OPENAI_API_KEY: 'sk-bench', TOOL_TIMEOUT_MS: '10000' };
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  const link = new TimingLink();
  const invocations = new NullInvocations();

  @Global()
  @Module({
    providers: [
      { provide: ToolInvocations, useValue: invocations },
      { provide: IdempotencyStore, useClass: MemoryIdempotencyStore },
    ],
    exports: [ToolInvocations, IdempotencyStore],
  })
  class BenchStorageModule {}
  @Module({ providers: [NoopTool] })
  class BenchToolsModule {}

  const moduleRef = await Test.createTestingModule({
    imports: [ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true }), EventsModule, MetricsModule, ResilienceModule, BenchStorageModule, ToolsModule, BenchToolsModule],
  })
    .overrideProvider(CallLink)
    .useValue(link)
    .setLogger(silent)
    .compile();
  const app = await moduleRef.init();
  const bus = app.get(EventBus);
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }

  for (let i = 0; i < CALLS; i++) {
    const callId = `rtc_bench_${i}`;
    bus.emit('call.accepted', {
      callId,
      context: { callId, callerNumber: '+14155550123', dialledNumber: '+18005551212', sipHeaders: [] },
      acceptedAt: new Date(),
      profile: 'default',
      callerTranscription: true,
    });
  }

  let sequence = 0;
  /** One tool call on a call: its response starts, the call is reported three times; resolves with the overhead. */
  const fire = (call: number): Promise<number> => {
    const callId = `rtc_bench_${call}`;
    const n = ++sequence;
    const toolCallId = `call_${n}`;
    const [argumentsDone, itemDone, responseDone] = toolCallEvents(toolCallId, n);
    bus.emit('realtime.event', { callId, event: { type: 'response.created', response: { id: `resp_${n}` } } });
    const started = performance.now();
    bus.emit('realtime.event', { callId, event: argumentsDone });
    bus.emit('realtime.event', { callId, event: itemDone });
    bus.emit('realtime.event', { callId, event: responseDone });
    return new Promise((resolve) => {
      const check = () => {
        const sent = link.sentAt.get(toolCallId);
        if (sent === undefined) return void setImmediate(check);
        link.sentAt.delete(toolCallId);
        resolve(sent - started);
      };
      check();
    });
  };

  // Warm-up (JIT, class-validator metadata caches).
  await Promise.all(Array.from({ length: 2000 }, (_, i) => fire(i % CALLS)));

  // Steady: 1,000 live calls, tool calls arriving evenly at RATE per second in total (each call every 0.5 s).
  const RATE = 2000;
  const SECONDS = Number(process.env.BENCH_TOOLS_SECONDS ?? 5);
  const steady: Measured = { overheads: [] };
  const total = RATE * SECONDS;
  const begin = performance.now();
  const pending: Promise<void>[] = [];
  await new Promise<void>((resolve) => {
    let fired = 0;
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - begin) / 1000) * RATE));
      while (fired < due) {
        const index = fired++;
        pending.push(fire(index % CALLS).then((ms) => void steady.overheads.push(ms)));
      }
      if (fired >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(pending);

  // Burst: every one of the 1,000 calls reports a tool call in the same event-loop turn.
  const burst: Measured = { overheads: await Promise.all(Array.from({ length: CALLS }, (_, i) => fire(i))) };

  await app.close();

  const row = (label: string, m: Measured) => {
    const sorted = [...m.overheads].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    return `| ${label} | ${sorted.length.toLocaleString('en-US')} | ${at(0.5).toFixed(3)} ms | ${at(0.99).toFixed(3)} ms | ${sorted[sorted.length - 1].toFixed(3)} ms |`;
  };
  const p99 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(0.99 * values.length)];
  const steadyP99 = p99(steady.overheads);
  const section = [
    '## Tool calls',
    '',
    'Overhead from a tool call\'s `response.function_call_arguments.done` reaching the bus to its `function_call_output` ' +
      'being handed to the sideband, for a no-op tool with a validated two-field DTO; 1,000 live calls, each call ' +
      'reported three times (arguments.done, output_item.done, response.done). In-process: the real ToolsModule, a ' +
      'fake sideband send (JSON-encoded, no socket) and an in-memory invocation store.',
    '',
    '| load | tool calls | p50 | p99 | max |',
    '|---|---:|---:|---:|---:|',
    row(`steady, ${RATE.toLocaleString('en-US')} tool calls/s across 1,000 calls`, steady),
    row('burst, all 1,000 calls at the same instant', burst),
    '',
    `Target p99 ≤ 5 ms at 1,000 concurrent calls (steady): ${steadyP99 <= 5 ? 'met' : 'NOT met'}. ` +
      `Runs stored: ${invocations.stored.toLocaleString('en-US')} records written.`,
  ].join('\n');
  return {
    section,
    targets: [{ name: 'Overhead', goal: 'p99 ≤ 5 ms at 1,000 concurrent calls (steady)', measured: `p99 ${steadyP99.toFixed(3)} ms`, met: steadyP99 <= 5 }],
  };
}

// `node dist/bench/src/tools.bench.js` runs this one alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  console.log((await benchToolCalls()).section);
}
