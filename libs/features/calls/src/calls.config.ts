import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { Type } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateBy,
  type ValidationOptions,
} from 'class-validator';
import { defineConfig } from '#config';

const MAX_INSTRUCTIONS_FILE_BYTES = 400 * 1024;

function IsReadableFile(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isReadableFile',
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return false;
          try {
            accessSync(value, constants.R_OK);
            const stat = statSync(value);
            return stat.isFile() && stat.size > 0 && stat.size <= MAX_INSTRUCTIONS_FILE_BYTES;
          } catch {
            return false;
          }
        },
        defaultMessage: () => 'must be the path of a readable, non-empty file of at most 400 KB',
      },
    },
    options,
  );
}

class OpenAIEnv {
  @IsString()
  @MaxLength(512)
  OPENAI_API_KEY!: string;

  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  OPENAI_BASE_URL = 'https://api.openai.com/v1';
}

/** How we talk to OpenAI: the key never leaves this object except in an Authorization header. */
export const openaiConfig = defineConfig('openai', OpenAIEnv, (env) => ({
  apiKey: env.OPENAI_API_KEY,
  baseUrl: env.OPENAI_BASE_URL.replace(/\/+$/, ''),
}));

export const DEFAULT_INSTRUCTIONS =
  'You are a friendly, concise phone agent. Speak naturally, keep answers short, and ask one question at a time. ' +
  'If the caller asks for a person, or you cannot help, offer to transfer them.';

class AgentEnv {
  @IsString()
  @MaxLength(128)
  OPENAI_MODEL = 'gpt-realtime';

  @Matches(/^[a-z0-9_-]{1,32}$/, { message: 'must be a voice name such as marin, cedar or alloy' })
  OPENAI_VOICE = 'marin';

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  WELCOME_MESSAGE?: string;

  @IsOptional()
  @IsString()
  @MaxLength(100_000)
  AGENT_INSTRUCTIONS?: string;

  @IsOptional()
  @IsReadableFile()
  AGENT_INSTRUCTIONS_FILE?: string;

  /** `none` turns caller transcription off (there is then no caller text at all). */
  @IsString()
  @MaxLength(128)
  INPUT_TRANSCRIPTION_MODEL = 'gpt-4o-mini-transcribe';

  @IsOptional()
  @Matches(/^[a-z]{2,3}(-[A-Za-z]{2,4})?$/, { message: 'must be a language code such as en or pt-BR' })
  INPUT_TRANSCRIPTION_LANGUAGE?: string;

  @IsIn(['semantic_vad', 'server_vad'])
  TURN_DETECTION: 'semantic_vad' | 'server_vad' = 'semantic_vad';
}

/** The default agent: what every call is answered with until per-number profiles exist. */
export const agentConfig = defineConfig('agent', AgentEnv, (env) => ({
  model: env.OPENAI_MODEL,
  voice: env.OPENAI_VOICE,
  welcomeMessage: env.WELCOME_MESSAGE,
  instructions:
    env.AGENT_INSTRUCTIONS ??
    (env.AGENT_INSTRUCTIONS_FILE ? readFileSync(env.AGENT_INSTRUCTIONS_FILE, 'utf8').trim() : DEFAULT_INSTRUCTIONS),
  transcription:
    env.INPUT_TRANSCRIPTION_MODEL === 'none'
      ? undefined
      : { model: env.INPUT_TRANSCRIPTION_MODEL, language: env.INPUT_TRANSCRIPTION_LANGUAGE },
  turnDetection: env.TURN_DETECTION,
}));

class CallControlEnv {
  /** Whole budget for answering a call, retry included: OpenAI wants the webhook answered within seconds. */
  @Type(() => Number)
  @IsInt()
  @Min(500)
  @Max(15_000)
  ACCEPT_TIMEOUT_MS = 4000;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(20)
  SIDEBAND_HANDSHAKE_ATTEMPTS = 5;

  @Type(() => Number)
  @IsInt()
  @Min(10)
  @Max(10_000)
  SIDEBAND_HANDSHAKE_BACKOFF_MS = 250;

  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(300_000)
  SIDEBAND_PING_INTERVAL_MS = 20_000;

  @Type(() => Number)
  @IsInt()
  @Min(1000)
  @Max(4 * 3_600_000)
  SIDEBAND_SESSION_CAP_MS = 3_600_000;

  /** The most calls this process holds at once (0: no limit). Beyond it a call is rejected with SIP 486. */
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  MAX_CONCURRENT_CALLS = 0;

  /** PostgreSQL: a live call's lease, renewed every second by its owner; another replica takes it once it runs out. */
  @Type(() => Number)
  @IsInt()
  @Min(2)
  @Max(60)
  CALL_LEASE_SECONDS = 5;
}

export const callControlConfig = defineConfig('callControl', CallControlEnv, (env) => ({
  acceptTimeoutMs: env.ACCEPT_TIMEOUT_MS,
  handshakeAttempts: env.SIDEBAND_HANDSHAKE_ATTEMPTS,
  handshakeBackoffMs: env.SIDEBAND_HANDSHAKE_BACKOFF_MS,
  pingIntervalMs: env.SIDEBAND_PING_INTERVAL_MS,
  sessionCapMs: env.SIDEBAND_SESSION_CAP_MS,
  maxConcurrentCalls: env.MAX_CONCURRENT_CALLS,
  leaseMs: env.CALL_LEASE_SECONDS * 1000,
}));
