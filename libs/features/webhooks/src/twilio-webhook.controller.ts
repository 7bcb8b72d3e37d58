import { Controller, Header, HttpCode, Inject, Post, Req } from '@nestjs/common';
import type { Request } from 'express';
import { readWebhookBody } from './webhook-body.js';
import { webhooksConfig } from './webhooks.config.js';
import { WebhookError, WebhookErrorCode } from './webhooks.errors.js';
import { ConferenceEventsHandler, ConferenceVoiceHandler, InvalidVoiceWebhook } from '#conference';
import type { ConfigType } from '#config';
import { OpaqueErrors } from '#http';
import { TwilioSignature, parseForm, twilioConfig, type TwilioParams } from '#twilio';

/**
 * Twilio's webhooks: `POST /twilio/voice` (an incoming call, answered with TwiML) and
 * `POST /twilio/conference-events` (conference and participant status, answered 204 whatever happens). Each body is
 * read raw (up to WEBHOOK_MAX_BODY_BYTES) and its `X-Twilio-Signature` checked against the public URL before
 * anything else: an unsigned or wrongly signed request gets 403 and changes nothing. Without Twilio configured both
 * answer 404.
 */
@Controller('twilio')
@OpaqueErrors()
export class TwilioWebhookController {
  constructor(
    private readonly signature: TwilioSignature,
    private readonly voice: ConferenceVoiceHandler,
    private readonly conferenceEvents: ConferenceEventsHandler,
    @Inject(webhooksConfig.KEY) private readonly webhooks: ConfigType<typeof webhooksConfig>,
    @Inject(twilioConfig.KEY) private readonly twilio: ConfigType<typeof twilioConfig>,
  ) {}

  @Post('voice')
  @HttpCode(200)
  @Header('Content-Type', 'text/xml; charset=utf-8')
  async incomingCall(@Req() request: Request): Promise<string> {
    const params = await this.readSigned(request);
    try {
      return await this.voice.answer(params);
    } catch (error) {
      if (!(error instanceof InvalidVoiceWebhook)) throw error;
      const code = error.why === 'not_configured' ? WebhookErrorCode.TwilioNotConfigured : WebhookErrorCode.MalformedBody;
      throw new WebhookError(code, error.message);
    }
  }

  @Post('conference-events')
  @HttpCode(204)
  async conferenceEvent(@Req() request: Request): Promise<void> {
    const params = await this.readSigned(request);
    await this.conferenceEvents.handle(params, new URL(request.originalUrl, 'http://local').searchParams);
  }

  private async readSigned(request: Request): Promise<TwilioParams> {
    if (!this.twilio.account) throw new WebhookError(WebhookErrorCode.TwilioNotConfigured, 'a Twilio webhook, but Twilio is not configured');
    const params = parseForm(await readWebhookBody(request, this.webhooks.maxBodyBytes));
    if (!this.signature.verify(request.originalUrl, request.headers['x-twilio-signature'], params)) {
      throw new WebhookError(WebhookErrorCode.InvalidTwilioSignature, `${request.path}: missing or invalid X-Twilio-Signature`);
    }
    return params;
  }
}
