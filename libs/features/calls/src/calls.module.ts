import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { DiscoveryModule } from '@nestjs/core';
import { AgentProfiles } from './agent-profiles.service.js';
import { CallEndReasons } from './call-end-reasons.js';
import { CallOwnership } from './call-ownership.service.js';
import { CallsDrain, CapacityReadiness } from './calls.health.js';
import { CallSessions } from './call-sessions.service.js';
import { CallMetrics } from './call.metrics.js';
import { agentConfig, callControlConfig, openaiConfig } from './calls.config.js';
import { CallsService } from './calls.service.js';
import { OpenAICallControl } from './openai-call-control.js';
import { OpenAIHttpTransport } from './openai-http-transport.js';
import { OPENAI_CLIENT, openaiClientProvider } from './openai.provider.js';
import { SidebandConnector } from './sideband/sideband-connector.js';
import { SidebandWireAudit } from './sideband/sideband-wire-audit.js';

@Module({
  imports: [
    ConfigModule.forFeature(openaiConfig),
    ConfigModule.forFeature(agentConfig),
    ConfigModule.forFeature(callControlConfig),
    DiscoveryModule,
  ],
  providers: [{ provide: OpenAIHttpTransport, useFactory: () => new OpenAIHttpTransport() }, openaiClientProvider, OpenAICallControl, SidebandConnector, SidebandWireAudit, CallEndReasons, CallSessions, CallsService, CallOwnership, AgentProfiles, CallMetrics, CapacityReadiness, CallsDrain],
  exports: [OPENAI_CLIENT, CallsService, CallSessions, CallOwnership, CallEndReasons, OpenAICallControl, AgentProfiles],
})
export class CallsModule {}
