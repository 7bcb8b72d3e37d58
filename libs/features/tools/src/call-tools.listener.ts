import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { CallLink } from './call-link.js';
import { DtmfCollector } from './dtmf/dtmf-collector.js';
import { announcedFunctionCall, finishedFunctionCalls, type ReportedFunctionCall } from './function-calls.js';
import { LiveCall } from './live-call.js';
import { parseToolArguments } from './tool-arguments.js';
import { ToolExecutor } from './tool-executor.service.js';
import { ToolRegistry } from './tool-registry.js';
import { dtmfConfig, toolsConfig } from './tools.config.js';
import { ToolRegistrationError, ToolRegistrationErrorCode } from './tools.errors.js';
import type { ConfigType } from '#config';
import {
  EventBus,
  OnBridgeEvent,
  type CallAcceptedEvent,
  type CallAdoptedEvent,
  type CallDetachedEvent,
  type CallEndedEvent,
  type RealtimeEventReceived,
  type RealtimeServerEvent,
  type SidebandConnectedEvent,
} from '#events';
import { Clock } from '#resilience';

/**
 * Tools and key presses on live calls: it follows every accepted call's events, runs each function call once
 * (whichever of the three events reports it first), and turns DTMF into `call.dtmf` events, messages to the model,
 * and key-map actions.
 */
@Injectable()
export class CallToolsListener implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(CallToolsListener.name);
  private readonly calls = new Map<string, LiveCall>();
  /** Calls taken over from a lost replica: the tool calls that were running there, answered once the sideband opens. */
  private readonly interrupted = new Map<string, string[]>();

  constructor(
    private readonly executor: ToolExecutor,
    private readonly registry: ToolRegistry,
    private readonly link: CallLink,
    private readonly bus: EventBus,
    @Inject(toolsConfig.KEY) private readonly tools: ConfigType<typeof toolsConfig>,
    @Inject(dtmfConfig.KEY) private readonly dtmf: ConfigType<typeof dtmfConfig>,
    private readonly clock: Clock,
  ) {}

  /** Calls being followed. */
  get activeCount(): number {
    return this.calls.size;
  }

  /** The live state of a call (tests and diagnostics). */
  get(callId: string): LiveCall | undefined {
    return this.calls.get(callId);
  }

  /** A key map that names a tool which is not there (or cannot run without arguments) stops the start. */
  async onApplicationBootstrap(): Promise<void> {
    const problems = [];
    for (const [key, name] of this.dtmf.keyMap) {
      const tool = this.registry.get(name);
      if (!tool) {
        const known = this.registry.all().find((t) => t.name === name);
        problems.push({
          code: ToolRegistrationErrorCode.UnknownName,
          message: `DTMF_KEY_MAP maps ${key} to "${name}", ${known ? `which is off (${known.disabledBecause})` : 'which no tool is called'}`,
        });
      } else if (!(await parseToolArguments('{}', tool.parameters)).ok) {
        problems.push({
          code: ToolRegistrationErrorCode.InvalidDeclaration,
          message: `DTMF_KEY_MAP maps ${key} to "${name}", which needs arguments (a key runs its tool with none)`,
        });
      }
    }
    if (problems.length > 0) throw new ToolRegistrationError(problems);
    if (this.dtmf.keyMap.size > 0) {
      this.logger.log(`DTMF key map: ${[...this.dtmf.keyMap].map(([key, tool]) => `${key} → ${tool}`).join(', ')}`);
    }
  }

  /** Stopping: nothing waits on a call any more (their sidebands are closed next, by the calls library). */
  onModuleDestroy(): void {
    for (const call of this.calls.values()) call.end();
    this.calls.clear();
  }

  @OnBridgeEvent('call.accepted')
  onAccepted({ callId, context, profile, transfer, tools, greeting }: CallAcceptedEvent): void {
    this.calls.set(
      callId,
      new LiveCall(context, {
        link: this.link,
        profile,
        transfer,
        tools,
        greeting,
        logger: this.logger,
        endCallMaxWaitMs: this.tools.endCallMaxWaitMs,
        dtmf: this.dtmf,
        onDigits: (call, keys) => this.tellModelAboutKeys(call, keys),
        onKeyAction: (call, key, tool) => this.runKeyAction(call, key, tool),
        clock: this.clock,
      }),
    );
  }

  /**
   * A call taken over from another replica: no greeting (the agent spoke already), and every tool call started
   * there is not run again. One that was still running when its replica was lost may or may not have done its
   * work: the model is told it failed, never given a second run.
   */
  @OnBridgeEvent('call.adopted')
  onAdopted(event: CallAdoptedEvent): void {
    this.onAccepted(event);
    const call = this.calls.get(event.callId)!;
    for (const run of event.priorToolCalls) call.handledToolCalls.add(run.toolCallId);
    const running = event.priorToolCalls.filter((run) => !run.finished).map((run) => run.toolCallId);
    if (running.length > 0) this.interrupted.set(event.callId, running);
  }

  /** Handed to another replica: nothing waits on the call here any more (its timers and runs are dropped). */
  @OnBridgeEvent('call.detached')
  onDetached({ callId }: CallDetachedEvent): void {
    this.forget(callId);
  }

  /** The sideband can send: the agent greets the caller first, through the conversation like every response. */
  @OnBridgeEvent('sideband.connected')
  onConnected({ callId }: SidebandConnectedEvent): void {
    const call = this.calls.get(callId);
    call?.greet();
    const interrupted = this.interrupted.get(callId);
    if (!call || !interrupted) return;
    this.interrupted.delete(callId);
    for (const toolCallId of interrupted) {
      this.logger.warn(`[${callId}] a tool call running when its replica was lost is answered as failed, not run again`);
      call.send({
        type: 'conversation.item.create',
        item: {
          type: 'function_call_output',
          call_id: toolCallId,
          output: JSON.stringify({ error: { code: 'interrupted', message: 'The tool was interrupted and may not have finished. Do not assume it did; tell the caller.' } }),
        },
      });
    }
    call.conversation.requestResponse();
  }

  @OnBridgeEvent('realtime.event')
  onRealtimeEvent({ callId, event }: RealtimeEventReceived): void {
    const call = this.calls.get(callId);
    if (!call) return;
    switch (event.type) {
      case 'response.output_item.added':
      case 'conversation.item.added': {
        const announced = announcedFunctionCall(event);
        if (announced) call.functionNames.set(announced.itemId, announced.name);
        break;
      }
      case 'response.function_call_arguments.done':
      case 'response.output_item.done':
      case 'response.done':
        // Before the conversation sees `response.done`: a run started now holds back the follow-up response.
        for (const reported of finishedFunctionCalls(event)) this.runOnce(call, reported);
        break;
      case 'input_audio_buffer.dtmf_event_received':
        this.onKey(call, event);
        break;
      default:
        break;
    }
    call.conversation.observe(event);
  }

  @OnBridgeEvent('call.ended')
  onEnded({ callId }: CallEndedEvent): void {
    this.forget(callId);
  }

  private forget(callId: string): void {
    this.interrupted.delete(callId);
    const call = this.calls.get(callId);
    if (!call) return;
    this.calls.delete(callId);
    call.end();
  }

  private runOnce(call: LiveCall, reported: ReportedFunctionCall): void {
    if (call.handledToolCalls.has(reported.toolCallId)) return;
    const name = reported.name ?? (reported.itemId !== undefined ? call.functionNames.get(reported.itemId) : undefined);
    // Without a name it cannot run yet; the item events that follow carry it.
    if (name === undefined) return;
    call.handledToolCalls.add(reported.toolCallId);
    if (reported.itemId !== undefined) call.functionNames.delete(reported.itemId);
    void this.executor.run(call, { toolCallId: reported.toolCallId, name, arguments: reported.arguments, trigger: 'model' }, (output) => {
      const sent = call.send({
        type: 'conversation.item.create',
        item: { type: 'function_call_output', call_id: reported.toolCallId, output },
      });
      if (sent) call.conversation.requestResponse();
      return sent;
    });
  }

  private onKey(call: LiveCall, event: RealtimeServerEvent): void {
    const key = DtmfCollector.keyOf(event.event);
    if (key === undefined) {
      this.logger.warn(`[${call.callId}] DTMF event without a valid key, ignored`);
      return;
    }
    const receivedAt =
      typeof event.received_at === 'number' && Number.isFinite(event.received_at) ? new Date(event.received_at * 1000) : new Date();
    const action = this.dtmf.keyMap.get(key);
    this.bus.emit('call.dtmf', { callId: call.callId, key, receivedAt, ...(action !== undefined ? { action } : {}) });
    call.dtmf.press(key);
  }

  private tellModelAboutKeys(call: LiveCall, keys: string[]): void {
    const sent = call.send({
      type: 'conversation.item.create',
      item: { type: 'message', role: 'user', content: [{ type: 'input_text', text: `The caller pressed ${keys.join(' ')}` }] },
    });
    if (sent) call.conversation.requestResponse();
  }

  private runKeyAction(call: LiveCall, key: string, tool: string): void {
    this.logger.log(`[${call.callId}] key ${key} runs ${tool}`);
    const request = { toolCallId: call.nextDtmfToolCallId(), name: tool, arguments: '{}', trigger: 'dtmf' as const };
    void this.executor.run(call, request, (output) => {
      // No function call asked for this run, so there is no call_id to answer: the model is told what happened.
      const sent = call.send({
        type: 'conversation.item.create',
        item: {
          type: 'message',
          role: 'system',
          content: [{ type: 'input_text', text: `The caller pressed ${key}, which ran the ${tool} tool. Its result: ${output}` }],
        },
      });
      if (sent) call.conversation.requestResponse();
      return sent;
    });
  }
}
