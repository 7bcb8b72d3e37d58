import { Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { readWebhookBody } from './webhook-body.js';
import { WebhookIntake } from './webhook-intake.service.js';
import { WebhookMetrics } from './webhook.metrics.js';
import { WebhookVerifier } from './webhook-verifier.js';
import { webhooksConfig } from './webhooks.config.js';
import type { ConfigType } from '#config';
import { OpaqueErrors } from '#http';

/** `POST /openai/webhook`: OpenAI's signed webhooks. Answers a plain 200 once the event has been handled. */
@Controller('openai/webhook')
@OpaqueErrors()
export class OpenAIWebhookController {
  constructor(
    private readonly verifier: WebhookVerifier,
    private readonly intake: WebhookIntake,
    private readonly metrics: WebhookMetrics,
    @Inject(webhooksConfig.KEY) private readonly config: ConfigType<typeof webhooksConfig>,
  ) {}

  @Post()
  @HttpCode(200)
  async receive(@Req() request: Request): Promise<void> {
    const startedAt = performance.now();
    try {
      // The signature covers the exact bytes sent, so the body is read raw, never parsed and re-serialized.
      const rawBody = await readWebhookBody(request, this.config.maxBodyBytes);
      const webhook = await this.verifier.verify(rawBody, request.headers);
      this.metrics.handled(await this.intake.receive(webhook), startedAt);
    } catch (error) {
      this.metrics.failed(error);
      throw error;
    }
  }
}
