import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { CallRecordWriter } from './call-record-writer.service.js';
import { LiveTranscripts } from './live-transcripts.service.js';
import { transcriptsConfig } from './transcripts.config.js';

/** Ordered Caller/Agent transcripts of live calls, and the durable call records. */
@Module({
  imports: [ConfigModule.forFeature(transcriptsConfig)],
  providers: [LiveTranscripts, CallRecordWriter],
  exports: [LiveTranscripts, CallRecordWriter],
})
export class TranscriptsModule {}
