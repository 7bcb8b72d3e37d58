import { Type } from 'class-transformer';
import { IsDefined, IsInt, IsOptional, Matches, Max, MaxLength, Min, ValidateBy, ValidateIf, type ValidationOptions } from 'class-validator';
import { defineConfig, type ConfigType } from '#config';

/** An http(s) URL without credentials, query or fragment (a base that paths are appended to). */
function IsBaseUrl(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isBaseUrl',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && baseUrlOf(value) !== undefined,
        defaultMessage: () => 'must be an http:// or https:// URL without a query, fragment or credentials',
      },
    },
    options,
  );
}

/** `https://host[:port][/prefix]` with any trailing slash removed; undefined when not such a URL. */
function baseUrlOf(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  if (url.username || url.password || url.search || url.hash || text.includes('?') || text.includes('#')) return undefined;
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** The caller's participant label in a conference (reserved: TWILIO_HUMAN_LABEL may not take it). */
export const CALLER_LABEL = 'customer';
/** The agent's (OpenAI SIP) participant label in a conference (reserved too). */
export const AGENT_LABEL = 'virtual agent';

const RESERVED_LABELS = [CALLER_LABEL, AGENT_LABEL];

/** True when Twilio's account variables are (partly) set: the rest of the warm-transfer set is then required. */
const usesTwilio = (env: TwilioEnv) => env.TWILIO_ACCOUNT_SID !== undefined || env.TWILIO_AUTH_TOKEN !== undefined;

class TwilioEnv {
  /** The Twilio account of the phone numbers whose voice webhook is `POST /twilio/voice`. */
  @ValidateIf(usesTwilio)
  @IsDefined()
  @Matches(/^AC[0-9a-fA-F]{32}$/, { message: 'must be a Twilio Account SID: AC followed by 32 hexadecimal characters' })
  TWILIO_ACCOUNT_SID?: string;

  /** Signs Twilio's webhooks and authenticates our API requests: a secret. */
  @ValidateIf(usesTwilio)
  @IsDefined()
  @Matches(/^[A-Za-z0-9]{16,128}$/, { message: 'must be the account Auth Token (letters and digits)' })
  TWILIO_AUTH_TOKEN?: string;

  /** The URL Twilio reaches this service at: webhook signatures cover it, callbacks are built on it. */
  @ValidateIf((env: TwilioEnv) => usesTwilio(env) || env.PUBLIC_BASE_URL !== undefined)
  @IsDefined()
  @IsBaseUrl()
  @MaxLength(2048)
  PUBLIC_BASE_URL?: string;

  /** The OpenAI project whose SIP connector answers the agent's leg: `sip:<id>@sip.api.openai.com`. */
  @ValidateIf((env: TwilioEnv) => usesTwilio(env) || env.OPENAI_PROJECT_ID !== undefined)
  @IsDefined()
  @Matches(/^proj_[A-Za-z0-9]{1,64}$/, { message: 'must be an OpenAI project id such as proj_abc123' })
  OPENAI_PROJECT_ID?: string;

  /** Where the Twilio SDK sends its requests instead of https://api.twilio.com (a local fake in tests). */
  @IsOptional()
  @IsBaseUrl()
  @MaxLength(2048)
  TWILIO_API_BASE_URL?: string;

  /** One Twilio API request; a 429 is retried (up to 3 times) with its own timeout. */
  @Type(() => Number)
  @IsInt()
  @Min(500)
  @Max(60_000)
  TWILIO_REQUEST_TIMEOUT_MS = 5000;

  /** The human's participant label in the conference (how their join is recognised). */
  @MaxLength(64)
  @Matches(/^[A-Za-z0-9][A-Za-z0-9 _.-]*$/, { message: 'must be a short label of letters, digits, spaces, _ . or -' })
  @ValidateBy({
    name: 'isFreeLabel',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && !RESERVED_LABELS.includes(value.trim().toLowerCase()),
      defaultMessage: () => `must differ from the caller's and the agent's labels (${RESERVED_LABELS.join(', ')})`,
    },
  })
  TWILIO_HUMAN_LABEL = 'human agent';

  /** How long the human's phone rings before Twilio reports no answer (Twilio's participant Timeout). */
  @Type(() => Number)
  @IsInt()
  @Min(5)
  @Max(600)
  TWILIO_RING_TIMEOUT_SECONDS = 30;
}

/**
 * Twilio Programmable Voice (the conference topology and warm transfer). `account` is set when TWILIO_ACCOUNT_SID
 * and TWILIO_AUTH_TOKEN are, and then PUBLIC_BASE_URL and OPENAI_PROJECT_ID are too (validation requires them
 * together). `account.authToken` is a secret: never log it.
 */
export const twilioConfig = defineConfig('twilio', TwilioEnv, (env) => ({
  account:
    env.TWILIO_ACCOUNT_SID && env.TWILIO_AUTH_TOKEN && env.PUBLIC_BASE_URL && env.OPENAI_PROJECT_ID
      ? {
          sid: env.TWILIO_ACCOUNT_SID,
          authToken: env.TWILIO_AUTH_TOKEN,
          publicBaseUrl: baseUrlOf(env.PUBLIC_BASE_URL)!,
          openaiProjectId: env.OPENAI_PROJECT_ID,
        }
      : undefined,
  apiBaseUrl: env.TWILIO_API_BASE_URL ? baseUrlOf(env.TWILIO_API_BASE_URL) : undefined,
  requestTimeoutMs: env.TWILIO_REQUEST_TIMEOUT_MS,
  humanLabel: env.TWILIO_HUMAN_LABEL.trim(),
  ringTimeoutSeconds: env.TWILIO_RING_TIMEOUT_SECONDS,
}));

export type TwilioConfig = ConfigType<typeof twilioConfig>;
