import { Injectable, Logger } from '@nestjs/common';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { RealtimeTool } from '../realtime-tool.decorator.js';
import { ToolParam } from '../tool-param.decorator.js';
import type { RealtimeToolHandler, ToolContext } from '../tool.types.js';
import { errorMessage } from '#resilience';

export class EndCallArgs {
  @IsOptional()
  @IsString()
  @MaxLength(200)
  @ToolParam({ description: 'Why the call is ending, in a few words (kept with the call record).' })
  reason?: string;
}

/**
 * Hangs up once the agent's goodbye has finished playing. The tool answers at once, asking the model to say
 * goodbye; the hang-up waits for that response to be done and its audio to stop (END_CALL_MAX_WAIT_MS at most),
 * so the caller always hears the last sentence.
 */
@Injectable()
@RealtimeTool({
  name: 'end_call',
  description:
    'Ends the phone call. Use it when the conversation is over: the caller said goodbye or has nothing more to ask. ' +
    'Do not use it while the caller still needs help. After calling it, say one short goodbye sentence: the line ' +
    'is closed as soon as you finish speaking.',
  parameters: EndCallArgs,
})
export class EndCallTool implements RealtimeToolHandler<EndCallArgs> {
  private readonly logger = new Logger(EndCallTool.name);

  execute(args: EndCallArgs, context: ToolContext) {
    if (context.call.ended) return { status: 'call_already_ended' };
    this.logger.log(`[${context.callId}] ending the call after the goodbye${args.reason ? ` (${args.reason.slice(0, 200)})` : ''}`);
    context.call.hangUp({ afterAgentSpeech: true }).catch((error: unknown) => {
      this.logger.error(`[${context.callId}] hanging up failed: ${errorMessage(error)}`);
    });
    return {
      status: 'ending_call',
      instructions: 'Say a brief, friendly goodbye now. The line closes as soon as you finish speaking.',
    };
  }
}
