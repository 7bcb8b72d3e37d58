import { Injectable } from '@nestjs/common';
import type { RealtimeFunctionTool } from 'openai/resources/realtime/realtime';

/** The tools the agent may call. Discovery of `@RealtimeTool()` providers comes with the tools issue. */
@Injectable()
export class ToolRegistry {
  /** JSON schemas for the accept body. */
  schemas(): RealtimeFunctionTool[] {
    return [];
  }
}
