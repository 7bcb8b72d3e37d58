import type { RealtimeFunctionTool } from 'openai/resources/realtime/realtime';
import type { TransferTarget } from '#events';

/** Everything that decides how the agent answers one call. */
export interface AgentProfile {
  name: string;
  model: string;
  instructions: string;
  voice: string;
  welcomeMessage?: string;
  transcription?: { model: string; language?: string };
  turnDetection: 'semantic_vad' | 'server_vad';
  tools: RealtimeFunctionTool[];
  /** Where `transfer_to_human` sends this profile's callers (the environment's target when absent). */
  transfer?: TransferTarget;
  /** Stored on the record of every call this profile answers (the tenant's own labels: customer id, plan …). */
  metadata?: Record<string, unknown>;
  /** Ids of the notification destinations of its calls; absent: the deployment's default destinations. */
  notify?: string[];
}
