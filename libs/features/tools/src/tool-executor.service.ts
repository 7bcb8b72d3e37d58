import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Injectable, Logger } from '@nestjs/common';
import type { LiveCall } from './live-call.js';
import { redactOutput, redactSecrets } from './redact.js';
import { parseToolArguments } from './tool-arguments.js';
import { ToolInvocationWriter } from './tool-invocation-writer.service.js';
import { ToolRegistry, type RegisteredTool } from './tool-registry.js';
import { ToolError, type ToolContext } from './tool.types.js';
import { EventBus, type ToolCompletedEvent, type ToolTrigger } from '#events';
import { Clock, errorMessage, withTimeoutOr } from '#resilience';

/** The longest output given to the model; a longer result is reported as an error instead of being cut. */
export const MAX_OUTPUT_CHARS = 32 * 1024;
/** Tool names listed to the model when it calls one that does not exist. */
const MAX_LISTED_NAMES = 20;
/** The most of an unexpected error's text a log line gets. */
const MAX_ERROR_CHARS = 300;

export interface ToolRequest {
  toolCallId: string;
  name: string;
  /** The arguments as the model sent them (JSON text). */
  arguments: string;
  trigger: ToolTrigger;
}

export type ToolStatus = ToolCompletedEvent['status'];

export interface ToolOutcome {
  status: ToolStatus;
  /** What the model is given (unredacted: it is the tool's own answer). */
  output: string;
  delivered: boolean;
}

const TIMED_OUT = Symbol('timed out');

/**
 * Runs one tool call from start to finish and never throws: arguments parsed and validated against the tool's DTO,
 * `execute` bounded by its timeout, the result (or an error the model can act on) delivered, the run published
 * (`tool.started` / `tool.completed`) and stored with its secrets redacted.
 */
@Injectable()
export class ToolExecutor {
  private readonly logger = new Logger(ToolExecutor.name);

  constructor(
    private readonly registry: ToolRegistry,
    private readonly bus: EventBus,
    private readonly writer: ToolInvocationWriter,
    /** The clock of the tools' timeouts. */
    private readonly clock: Clock,
  ) {}

  /**
   * Runs `request` on `call` and hands the output to `deliver` (which says whether it reached the call). The
   * conversation counts the run as in flight until the output is delivered, so the follow-up `response.create`
   * waits for it.
   */
  async run(call: LiveCall, request: ToolRequest, deliver: (output: string) => boolean): Promise<ToolOutcome> {
    // Synchronously, before anything is awaited: the follow-up response must wait for this run.
    const release = call.conversation.beginRun();
    const { callId } = call;
    const { toolCallId, trigger } = request;
    // The model's word for it: kept short in records and logs (no tool name is longer).
    const name = request.name.slice(0, 64);
    let answered = false;
    const id = randomUUID();
    const startedAt = new Date();
    const started = performance.now();
    try {
      const tool = this.toolFor(call, request.name);
      const parsed = await parseToolArguments(request.arguments, tool?.parameters);
      const redactedArguments = parsed.json === null ? null : redactSecrets(parsed.json);
      this.publish(() => this.bus.emit('tool.started', { callId, toolCallId, name, trigger, arguments: redactedArguments, startedAt }));
      const record = { id, callId, toolCallId, name, arguments: redactedArguments && JSON.stringify(redactedArguments), startedAt };
      this.writer.write({ ...record, result: null, status: 'running', finishedAt: null });

      let result: { status: ToolStatus; output: string };
      if (!tool) {
        result = this.unavailable(call, name);
      } else if (!parsed.ok) {
        result = failure('invalid_arguments', 'invalid_arguments', parsed.message, parsed.problems);
      } else {
        result = await this.execute(call, tool, parsed.args, request);
      }

      let delivered = false;
      try {
        answered = true;
        delivered = deliver(result.output);
      } catch (error) {
        this.logger.error(`[${callId}] delivering the output of ${name} failed: ${errorMessage(error)}`);
      }
      release();

      const finishedAt = new Date();
      const durationMs = Math.round((performance.now() - started) * 10) / 10;
      const stored = redactOutput(result.output);
      this.writer.write({ ...record, result: stored, status: result.status, finishedAt });
      this.publish(() =>
        this.bus.emit('tool.completed', {
          callId,
          toolCallId,
          name,
          trigger,
          status: result.status,
          output: stored,
          delivered,
          startedAt,
          finishedAt,
          durationMs,
        }),
      );
      const line = `[${callId}] tool ${name} (${toolCallId}, ${trigger}): ${result.status} in ${durationMs} ms${delivered ? '' : ', output not delivered (call ended)'}`;
      if (result.status === 'succeeded') this.logger.log(line);
      else this.logger.warn(line);
      return { ...result, delivered };
    } catch (error) {
      // Only a bug in this class can get here; the call must go on regardless, and the model still gets an answer.
      this.logger.error(`[${callId}] running tool ${name} failed unexpectedly: ${errorMessage(error)}`);
      const output = errorOutput('tool_failed', 'The tool failed.');
      let delivered = false;
      if (!answered) {
        try {
          delivered = deliver(output);
        } catch {
          // Already logged above; nothing more can be done for this run.
        }
      }
      release();
      return { status: 'failed', output, delivered };
    }
  }

  /**
   * The tool a call may run under this name: one of those its profile offered (enabled or configured by the
   * profile, e.g. its own transfer target), or any enabled tool when its profile did not decide.
   */
  private toolFor(call: LiveCall, name: string): RegisteredTool | undefined {
    const allowed = call.allowedTools;
    if (allowed === undefined) return this.registry.get(name);
    return allowed.has(name) ? this.registry.find(name) : undefined;
  }

  /**
   * What the model hears when it calls a tool that does not exist here (unknown, or off in this deployment), or one
   * this deployment offers but not to this call's profile.
   */
  private unavailable(call: LiveCall, name: string): { status: ToolStatus; output: string } {
    const offered = call.allowedTools ? [...call.allowedTools].sort() : this.registry.names();
    const available = offered.slice(0, MAX_LISTED_NAMES).join(', ') || 'none';
    if (call.allowedTools !== undefined && this.registry.get(name) !== undefined) {
      return failure('unknown_tool', 'tool_not_allowed', `The tool ${JSON.stringify(name)} is not available on this line. Tools: ${available}.`);
    }
    return failure('unknown_tool', 'unknown_tool', `There is no tool called ${JSON.stringify(name)}. Tools: ${available}.`);
  }

  private async execute(call: LiveCall, tool: RegisteredTool, args: object, request: ToolRequest): Promise<{ status: ToolStatus; output: string }> {
    const controller = new AbortController();
    const context: ToolContext = {
      callId: call.callId,
      toolCallId: request.toolCallId,
      trigger: request.trigger,
      sip: call.context,
      profile: call.profile,
      ...(call.transfer ? { transfer: call.transfer } : {}),
      signal: controller.signal,
      call: call.control,
    };
    try {
      // A value only this class has: whatever the tool returns or throws (its own TimeoutError too) is the tool's.
      const value = await withTimeoutOr(
        Promise.resolve().then(() => tool.handler.execute(args, context)),
        tool.timeoutMs,
        TIMED_OUT,
        { clock: this.clock },
      );
      if (value === TIMED_OUT) {
        controller.abort(new Error(`${tool.name} timed out after ${tool.timeoutMs} ms`));
        return failure(
          'timed_out',
          'timeout',
          `The tool did not finish within ${Math.round(tool.timeoutMs / 100) / 10} s. Tell the caller it is not possible right now.`,
        );
      }
      return formatResult(value);
    } catch (error) {
      if (error instanceof ToolError) return failure('failed', error.code, error.message);
      this.logger.warn(`[${call.callId}] tool ${tool.name} threw: ${errorMessage(error, { withName: true, maxLength: MAX_ERROR_CHARS })}`);
      return failure('failed', 'tool_failed', 'The tool failed. Tell the caller it is not possible right now.');
    }
  }

  private publish(emit: () => void): void {
    try {
      emit();
    } catch (error) {
      this.logger.error(`a tool event listener failed: ${errorMessage(error)}`);
    }
  }
}

/** The model's view of a result: strings as they are, anything else as JSON, nothing as `{"status":"ok"}`. */
function formatResult(value: unknown): { status: ToolStatus; output: string } {
  let output: string | undefined;
  if (typeof value === 'string') output = value;
  else if (value === undefined || value === null) output = '{"status":"ok"}';
  else {
    try {
      output = JSON.stringify(value);
    } catch {
      output = undefined;
    }
    if (typeof output !== 'string') return failure('failed', 'tool_failed', 'The tool returned a result that is not JSON.');
  }
  if (output.length > MAX_OUTPUT_CHARS) return failure('failed', 'result_too_large', 'The tool returned more than can be read.');
  return { status: 'succeeded', output };
}

function failure(status: ToolStatus, code: string, message: string, problems?: string[]): { status: ToolStatus; output: string } {
  return { status, output: errorOutput(code, message, problems) };
}

function errorOutput(code: string, message: string, problems?: string[]): string {
  return JSON.stringify({ error: { code, message, ...(problems && problems.length > 0 ? { problems } : {}) } });
}
