import { Injectable } from '@nestjs/common';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { RealtimeTool } from '../realtime-tool.decorator.js';
import { ToolParam } from '../tool-param.decorator.js';
import type { RealtimeToolHandler, ToolContext } from '../tool.types.js';
import { HumanTransfer } from './human-transfer.js';

export class TransferToHumanArgs {
  @IsOptional()
  @IsString()
  @MaxLength(300)
  @ToolParam({ description: 'What the caller needs, in one sentence (kept with the call record).' })
  reason?: string;
}

/** Puts the caller through to a person, with whichever strategy the deployment configured. */
@Injectable()
@RealtimeTool({
  name: 'transfer_to_human',
  description:
    'Transfers the call to a human agent. Use it when the caller asks for a person, or when you cannot help. ' +
    'Before calling it, tell the caller you are putting them through. If it reports that the transfer failed (now ' +
    'or later), the caller is still on the line: apologise and offer another way to help.',
  parameters: TransferToHumanArgs,
})
export class TransferToHumanTool implements RealtimeToolHandler<TransferToHumanArgs> {
  constructor(private readonly strategy: HumanTransfer) {}

  isEnabled(): boolean {
    return this.strategy.configured;
  }

  get timeoutMs(): number {
    return this.strategy.maxDurationMs;
  }

  async execute(args: TransferToHumanArgs, context: ToolContext) {
    return (await this.strategy.transfer(context, args.reason)) ?? { status: 'transferred' };
  }
}
