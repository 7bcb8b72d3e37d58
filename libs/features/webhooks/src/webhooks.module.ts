import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AgentLegs } from './agent-leg.js';
import { ConferenceEventsHandler } from './conference-events.handler.js';
import { IncomingCallHandler } from './incoming-call.handler.js';
import { OpenAIWebhookController } from './openai-webhook.controller.js';
import { TwilioVoiceHandler } from './twilio-voice.handler.js';
import { TwilioWebhookController } from './twilio-webhook.controller.js';
import { WebhookIntake } from './webhook-intake.service.js';
import { WebhookVerifier } from './webhook-verifier.js';
import { WebhookMetrics } from './webhook.metrics.js';
import { webhooksConfig } from './webhooks.config.js';
import { CallsModule } from '#calls';
import { TenantsModule } from '#tenants';
import { TwilioModule, twilioConfig } from '#twilio';

/** OpenAI's webhooks (`/openai/webhook`) and Twilio's (`/twilio/voice`, `/twilio/conference-events`). */
@Module({
  imports: [ConfigModule.forFeature(webhooksConfig), ConfigModule.forFeature(twilioConfig), CallsModule, TenantsModule, TwilioModule],
  controllers: [OpenAIWebhookController, TwilioWebhookController],
  providers: [WebhookVerifier, WebhookIntake, IncomingCallHandler, WebhookMetrics, TwilioVoiceHandler, ConferenceEventsHandler, AgentLegs],
})
export class WebhooksModule {}
