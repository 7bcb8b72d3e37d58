import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { IncomingCallHandler } from './incoming-call.handler.js';
import { OpenAIWebhookController } from './openai-webhook.controller.js';
import { TwilioWebhookController } from './twilio-webhook.controller.js';
import { WebhookIntake } from './webhook-intake.service.js';
import { WebhookVerifier } from './webhook-verifier.js';
import { WebhookMetrics } from './webhook.metrics.js';
import { webhooksConfig } from './webhooks.config.js';
import { CallsModule } from '#calls';
import { ConferenceModule } from '#conference';
import { TenantsModule } from '#tenants';
import { TwilioModule, twilioConfig } from '#twilio';

/**
 * OpenAI's webhooks (`/openai/webhook`) and Twilio's (`/twilio/voice`, `/twilio/conference-events`): reading,
 * verifying and deduplicating them. What a Twilio webhook means is the conference library's.
 */
@Module({
  imports: [ConfigModule.forFeature(webhooksConfig), ConfigModule.forFeature(twilioConfig), CallsModule, TenantsModule, TwilioModule, ConferenceModule],
  controllers: [OpenAIWebhookController, TwilioWebhookController],
  providers: [WebhookVerifier, WebhookIntake, IncomingCallHandler, WebhookMetrics],
})
export class WebhooksModule {}
