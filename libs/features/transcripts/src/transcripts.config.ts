import { Type } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';
import { defineConfig } from '#config';

class TranscriptsEnv {
  /** How long a caller turn may wait for its transcription before `[inaudible]` stands in for it. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(60_000)
  TRANSCRIPT_PLACEHOLDER_MS = 5000;
}

export const transcriptsConfig = defineConfig('transcripts', TranscriptsEnv, (env) => ({
  placeholderAfterMs: env.TRANSCRIPT_PLACEHOLDER_MS,
}));
