import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsUrl, Max, Min } from 'class-validator';
import { defineConfig } from '#config';

class NotificationsEnv {
  /** `https://discord.com/api/webhooks/{id}/{token}`: a secret (the token is in the URL). */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }, { message: 'must be a Discord webhook URL' })
  DISCORD_WEBHOOK_URL?: string;

  @Type(() => Number)
  @IsInt()
  @Min(500)
  @Max(60_000)
  DISCORD_REQUEST_TIMEOUT_MS = 10_000;

  /** Longest wait between retries of a destination answering 5xx or unreachable. */
  @Type(() => Number)
  @IsInt()
  @Min(100)
  @Max(600_000)
  NOTIFY_MAX_BACKOFF_MS = 60_000;

  /** Also print every notification on stdout (the demo does; handy without Discord). */
  @IsOptional()
  @Transform(({ value }) => (value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value))
  @IsBoolean({ message: 'must be true or false' })
  NOTIFY_CONSOLE?: boolean;
}

export const notificationsConfig = defineConfig('notifications', NotificationsEnv, (env) => ({
  discordWebhookUrl: env.DISCORD_WEBHOOK_URL,
  requestTimeoutMs: env.DISCORD_REQUEST_TIMEOUT_MS,
  maxBackoffMs: env.NOTIFY_MAX_BACKOFF_MS,
  console: env.NOTIFY_CONSOLE ?? false,
}));
