import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MinLength, Min } from 'class-validator';
import { defineConfig } from '#config';

class TranscriptsEnv {
  /** How long a caller turn may wait for its transcription before `[inaudible]` stands in for it. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(60_000)
  TRANSCRIPT_PLACEHOLDER_MS = 5000;

  /** Bearer token of the records API (`/calls…`); the API is off while it is unset. */
  @IsOptional()
  @IsString()
  @MinLength(16, { message: 'must be at least 16 characters (it protects transcripts)' })
  ADMIN_API_TOKEN?: string;
}

export const transcriptsConfig = defineConfig('transcripts', TranscriptsEnv, (env) => ({
  placeholderAfterMs: env.TRANSCRIPT_PLACEHOLDER_MS,
  adminApiToken: env.ADMIN_API_TOKEN,
}));
