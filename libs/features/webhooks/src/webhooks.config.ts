import { Type } from 'class-transformer';
import { IsInt, Max, Min, ValidateBy } from 'class-validator';
import { defineConfig } from '#config';

/** `whsec_<base64>` (the key is the decoded bytes) or any other non-empty string (used as UTF-8). */
function isUsableSecret(secret: string): boolean {
  if (!secret.startsWith('whsec_')) return secret.length > 0;
  return /^[A-Za-z0-9+/]+={0,2}$/.test(secret.slice('whsec_'.length));
}

class WebhooksEnv {
  /** One secret, or several separated by commas while a rotation is under way. */
  @ValidateBy({
    name: 'isWebhookSecretList',
    validator: {
      validate: (value: unknown) =>
        typeof value === 'string' && value.split(',').every((s) => isUsableSecret(s.trim())),
      defaultMessage: () =>
        'must be set: the webhook signing secret (whsec_ followed by base64), or several separated by commas',
    },
  })
  OPENAI_WEBHOOK_SECRET!: string;

  @Type(() => Number)
  @IsInt()
  @Min(1024)
  @Max(10 * 1024 * 1024)
  WEBHOOK_MAX_BODY_BYTES = 256 * 1024;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3600)
  WEBHOOK_TOLERANCE_SECONDS = 300;
}

export const webhooksConfig = defineConfig('webhooks', WebhooksEnv, (env) => ({
  secrets: env.OPENAI_WEBHOOK_SECRET.split(',').map((s) => s.trim()),
  maxBodyBytes: env.WEBHOOK_MAX_BODY_BYTES,
  toleranceSeconds: env.WEBHOOK_TOLERANCE_SECONDS,
}));
