import { Inject, Injectable } from '@nestjs/common';
import type { RealtimeFunctionTool } from 'openai/resources/realtime/realtime';
import type { AgentProfile } from './agent-profile.js';
import { agentConfig } from './calls.config.js';
import type { ConfigType } from '#config';
import type { CallContext } from '#events';

/** Chooses the agent that answers a call. Today: the profile the environment describes, for every number. */
@Injectable()
export class AgentProfiles {
  constructor(@Inject(agentConfig.KEY) private readonly agent: ConfigType<typeof agentConfig>) {}

  forCall(_context: CallContext, tools: RealtimeFunctionTool[]): AgentProfile {
    return { name: 'default', ...this.agent, tools };
  }
}
