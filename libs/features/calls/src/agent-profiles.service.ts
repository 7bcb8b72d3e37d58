import { Inject, Injectable } from '@nestjs/common';
import type { RealtimeFunctionTool } from 'openai/resources/realtime/realtime';
import type { AgentProfile } from './agent-profile.js';
import { agentConfig } from './calls.config.js';
import type { ConfigType } from '#config';
import type { CallContext } from '#events';

/**
 * The default agent: the profile the environment describes (OPENAI_MODEL, OPENAI_VOICE, AGENT_INSTRUCTIONS …).
 * It answers every call when there is no tenants file, and tenant profiles (#tenants) start from it.
 */
@Injectable()
export class AgentProfiles {
  constructor(@Inject(agentConfig.KEY) private readonly agent: ConfigType<typeof agentConfig>) {}

  /** The environment's agent, offering these tools. */
  defaultProfile(tools: RealtimeFunctionTool[]): AgentProfile {
    return { name: 'default', ...this.agent, tools };
  }

  forCall(_context: CallContext, tools: RealtimeFunctionTool[]): AgentProfile {
    return this.defaultProfile(tools);
  }
}
