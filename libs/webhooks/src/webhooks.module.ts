import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { IncomingCallHandler } from './incoming-call.handler.js';
import { OpenAIWebhookController } from './openai-webhook.controller.js';
import { WebhookIntake } from './webhook-intake.service.js';
import { WebhookVerifier } from './webhook-verifier.js';
import { WebhookMetrics } from './webhook.metrics.js';
import { webhooksConfig } from './webhooks.config.js';
import { CallsModule } from '#calls';
import { TenantsModule } from '#tenants';

@Module({
  imports: [ConfigModule.forFeature(webhooksConfig), CallsModule, TenantsModule],
  controllers: [OpenAIWebhookController],
  providers: [WebhookVerifier, WebhookIntake, IncomingCallHandler, WebhookMetrics],
})
export class WebhooksModule {}
