import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AgentLegs } from './agent-leg.js';
import { ConferenceCallLinker } from './conference-call-linker.js';
import { ConferenceEndReason } from './conference-end-reason.js';
import { ConferenceEventsHandler } from './conference-events.handler.js';
import { ConferenceLinks } from './conference-links.js';
import { ConferenceRetention } from './conference-retention.js';
import { ConferenceTransfer } from './conference-transfer.js';
import { ConferenceVoiceHandler } from './conference-voice.handler.js';
import { SqlConferenceLinks } from './sql-conference-links.js';
import { CallsModule } from '#calls';
import { ToolsModule, transferConfig } from '#tools';
import { TwilioModule, twilioConfig } from '#twilio';

/**
 * The Twilio conference topology, whole: the caller held in a conference named after its CallSid, the agent (OpenAI's
 * SIP connector) added as a participant, the link between the two stored for every replica, the conference events,
 * the warm transfer of `transfer_to_human` (a `HumanTransferRoute`), and what a closing agent leg means. Twilio's
 * webhooks reach it through the webhooks library's thin controller.
 */
@Module({
  imports: [ConfigModule.forFeature(twilioConfig), ConfigModule.forFeature(transferConfig), CallsModule, ToolsModule, TwilioModule],
  providers: [
    { provide: ConferenceLinks, useClass: SqlConferenceLinks },
    AgentLegs,
    ConferenceVoiceHandler,
    ConferenceEventsHandler,
    ConferenceCallLinker,
    ConferenceEndReason,
    ConferenceTransfer,
    ConferenceRetention,
  ],
  exports: [ConferenceLinks, ConferenceVoiceHandler, ConferenceEventsHandler, ConferenceCallLinker],
})
export class ConferenceModule {}
