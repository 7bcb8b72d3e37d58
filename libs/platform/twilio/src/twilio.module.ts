import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { TwilioSignature } from './twilio-signature.js';
import { TwilioVoice } from './twilio-voice.js';
import { twilioConfig } from './twilio.config.js';

/**
 * Twilio Programmable Voice: the SDK client (conference participants, ending calls) and webhook signatures. Modules
 * that read `twilioConfig` themselves add `ConfigModule.forFeature(twilioConfig)`.
 */
@Module({
  imports: [ConfigModule.forFeature(twilioConfig)],
  providers: [TwilioVoice, TwilioSignature],
  exports: [TwilioVoice, TwilioSignature],
})
export class TwilioModule {}
