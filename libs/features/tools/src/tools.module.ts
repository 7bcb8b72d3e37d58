import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { DiscoveryModule } from '@nestjs/core';
import { EndCallTool } from './builtin/end-call.tool.js';
import { HumanTransfer } from './builtin/human-transfer.js';
import { HumanTransferRoutes, PerCallHumanTransfer } from './builtin/per-call-transfer.js';
import { SipReferTransfer } from './builtin/sip-refer-transfer.js';
import { TransferToHumanTool } from './builtin/transfer-to-human.tool.js';
import { CallLink, RealtimeCallLink } from './call-link.js';
import { CallToolsListener } from './call-tools.listener.js';
import { ToolExecutor } from './tool-executor.service.js';
import { ToolInvocationWriter } from './tool-invocation-writer.service.js';
import { ToolRegistry } from './tool-registry.js';
import { dtmfConfig, toolsConfig, transferConfig } from './tools.config.js';
import { CallsModule } from '#calls';

/**
 * The agent's tools: discovery of every `@RealtimeTool()` provider in the application, their execution on live
 * calls, the built-in call-control tools (end_call, transfer_to_human by SIP REFER or by a `HumanTransferRoute`
 * such as `#conference`'s warm transfer) and DTMF. Tools of other modules need nothing from here but the decorator:
 * being a provider anywhere in the application is enough.
 */
@Module({
  imports: [
    DiscoveryModule,
    CallsModule,
    ConfigModule.forFeature(toolsConfig),
    ConfigModule.forFeature(transferConfig),
    ConfigModule.forFeature(dtmfConfig),
  ],
  providers: [
    ToolRegistry,
    ToolExecutor,
    ToolInvocationWriter,
    CallToolsListener,
    { provide: CallLink, useClass: RealtimeCallLink },
    SipReferTransfer,
    HumanTransferRoutes,
    PerCallHumanTransfer,
    { provide: HumanTransfer, useExisting: PerCallHumanTransfer },
    EndCallTool,
    TransferToHumanTool,
  ],
  exports: [ToolRegistry, ToolExecutor, CallToolsListener, CallLink, SipReferTransfer, PerCallHumanTransfer, HumanTransferRoutes],
})
export class ToolsModule {}
