import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { DiscoveryModule } from '@nestjs/core';
import { ConferenceTransfer } from './builtin/conference-transfer.js';
import { EndCallTool } from './builtin/end-call.tool.js';
import { HumanTransfer } from './builtin/human-transfer.js';
import { PerCallHumanTransfer } from './builtin/per-call-transfer.js';
import { SipReferTransfer } from './builtin/sip-refer-transfer.js';
import { TransferToHumanTool } from './builtin/transfer-to-human.tool.js';
import { CallLink, RealtimeCallLink } from './call-link.js';
import { CallToolsListener } from './call-tools.listener.js';
import { ToolExecutor } from './tool-executor.service.js';
import { ToolInvocationWriter } from './tool-invocation-writer.service.js';
import { ToolRegistry } from './tool-registry.js';
import { dtmfConfig, toolsConfig, transferConfig } from './tools.config.js';
import { CallsModule } from '#calls';
import { TwilioModule, twilioConfig } from '#twilio';

/**
 * The agent's tools: discovery of every `@RealtimeTool()` provider in the application, their execution on live
 * calls, the built-in call-control tools (end_call, transfer_to_human by SIP REFER or Twilio warm transfer) and
 * DTMF. Tools of other modules need nothing from here but the decorator: being a provider anywhere in the
 * application is enough.
 */
@Module({
  imports: [
    DiscoveryModule,
    CallsModule,
    ConfigModule.forFeature(toolsConfig),
    ConfigModule.forFeature(transferConfig),
    ConfigModule.forFeature(dtmfConfig),
    TwilioModule,
    ConfigModule.forFeature(twilioConfig),
  ],
  providers: [
    ToolRegistry,
    ToolExecutor,
    ToolInvocationWriter,
    CallToolsListener,
    { provide: CallLink, useClass: RealtimeCallLink },
    SipReferTransfer,
    ConferenceTransfer,
    PerCallHumanTransfer,
    { provide: HumanTransfer, useExisting: PerCallHumanTransfer },
    EndCallTool,
    TransferToHumanTool,
  ],
  exports: [ToolRegistry, ToolExecutor, CallToolsListener],
})
export class ToolsModule {}
