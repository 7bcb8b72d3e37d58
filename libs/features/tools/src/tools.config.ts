import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min, ValidateBy, type ValidationOptions } from 'class-validator';
import { defineConfig } from '#config';

/** OpenAI's rule for function names. */
export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const TOOL_NAME_LIST = /^\s*[a-zA-Z0-9_-]{1,64}\s*(,\s*[a-zA-Z0-9_-]{1,64}\s*)*$/;
const DTMF_KEY = /^[0-9*#A-D]$/;

class ToolsEnv {
  /** How long one tool run may take before the model is told it timed out. */
  @Type(() => Number)
  @IsInt()
  @Min(50)
  @Max(300_000)
  TOOL_TIMEOUT_MS = 10_000;

  /** Tools (built-in or not) this deployment does not offer, comma-separated. */
  @IsOptional()
  @Matches(TOOL_NAME_LIST, { message: 'must be a comma-separated list of tool names' })
  TOOLS_DISABLED?: string;

  /** The longest `end_call` waits for the goodbye to finish playing before it hangs up anyway. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(120_000)
  END_CALL_MAX_WAIT_MS = 15_000;
}

export const toolsConfig = defineConfig('tools', ToolsEnv, (env) => ({
  timeoutMs: env.TOOL_TIMEOUT_MS,
  disabled: new Set(splitList(env.TOOLS_DISABLED)),
  endCallMaxWaitMs: env.END_CALL_MAX_WAIT_MS,
}));

class TransferEnv {
  /**
   * The human agent's number (E.164): `transfer_to_human` refers the call to `tel:<number>`, or, on a call that came
   * through a Twilio conference, dials it into the conference.
   */
  @IsOptional()
  @Matches(/^\+[1-9]\d{7,14}$/, { message: 'must be a phone number in E.164 format, such as +14155550123' })
  HUMAN_AGENT_NUMBER?: string;

  /** A SIP URI to refer calls to instead (takes precedence over HUMAN_AGENT_NUMBER). */
  @IsOptional()
  @Matches(/^sips?:[^\s<>"@]+@[A-Za-z0-9.[\]:-]+(;[^\s<>"]*)?$/, {
    message: 'must be a SIP URI such as sip:agent@pbx.example.com',
  })
  TRANSFER_SIP_URI?: string;

  /** After the REFER, how long the call has to end (the transfer completing) before the model hears it failed. */
  @Type(() => Number)
  @IsInt()
  @Min(500)
  @Max(120_000)
  TRANSFER_TIMEOUT_MS = 20_000;
}

export const transferConfig = defineConfig('transfer', TransferEnv, (env) => ({
  /** E.164: the REFER target (as `tel:`), and whom a Twilio warm transfer dials. */
  humanAgentNumber: env.HUMAN_AGENT_NUMBER,
  targetUri: env.TRANSFER_SIP_URI ?? (env.HUMAN_AGENT_NUMBER ? `tel:${env.HUMAN_AGENT_NUMBER}` : undefined),
  timeoutMs: env.TRANSFER_TIMEOUT_MS,
}));

function IsDtmfKeyMap(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isDtmfKeyMap',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && parseKeyMap(value) !== undefined,
        defaultMessage: () =>
          'must be comma-separated key:tool pairs such as 0:transfer_to_human,9:end_call (keys 0-9, *, #, A-D, each once)',
      },
    },
    options,
  );
}

class DtmfEnv {
  /** Digits are handed to the model after this long without a new key (or at once on #). */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(30_000)
  DTMF_INTER_DIGIT_MS = 1500;

  /** Keys that run a tool directly instead of going to the model, e.g. `0:transfer_to_human`. */
  @IsOptional()
  @IsDtmfKeyMap()
  DTMF_KEY_MAP?: string;
}

export const dtmfConfig = defineConfig('dtmf', DtmfEnv, (env) => ({
  interDigitMs: env.DTMF_INTER_DIGIT_MS,
  keyMap: parseKeyMap(env.DTMF_KEY_MAP ?? '') ?? new Map<string, string>(),
}));

/** `0:transfer_to_human, 9:end_call` → key → tool name; undefined when malformed or a key repeats. */
export function parseKeyMap(text: string): Map<string, string> | undefined {
  const map = new Map<string, string>();
  for (const entry of splitList(text)) {
    const colon = entry.indexOf(':');
    if (colon < 0) return undefined;
    const key = entry.slice(0, colon).trim().toUpperCase();
    const tool = entry.slice(colon + 1).trim();
    if (!DTMF_KEY.test(key) || !TOOL_NAME.test(tool) || map.has(key)) return undefined;
    map.set(key, tool);
  }
  return map;
}

function splitList(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}
