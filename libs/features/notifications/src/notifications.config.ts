import { Transform, Type } from 'class-transformer';
import { IsBoolean, IsInt, IsOptional, IsUrl, Max, Min } from 'class-validator';
import { defineConfig } from '#config';
import { OUTBOX_LEASE_MS } from '#storage';

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

  /**
   * How long a replica's hold on the notifications it stores lasts without renewal (it renews it every third of
   * that): when a replica dies, another one sends what it left after this long.
   */
  @Type(() => Number)
  @IsInt()
  @Min(2)
  @Max(3600)
  NOTIFY_LEASE_SECONDS = OUTBOX_LEASE_MS / 1000;

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
  leaseMs: env.NOTIFY_LEASE_SECONDS * 1000,
  console: env.NOTIFY_CONSOLE ?? false,
}));
