import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { CallRecordWriter } from './call-record-writer.service.js';
import { LiveTranscripts } from './live-transcripts.service.js';
import { AdminTokenGuard } from './records/admin-token.guard.js';
import { RecordsController } from './records/records.controller.js';
import { transcriptsConfig } from './transcripts.config.js';

/** Ordered Caller/Agent transcripts of live calls, the durable call records, and the records API. */
@Module({
  imports: [ConfigModule.forFeature(transcriptsConfig)],
  controllers: [RecordsController],
  providers: [LiveTranscripts, CallRecordWriter, AdminTokenGuard],
  exports: [LiveTranscripts, CallRecordWriter],
})
export class TranscriptsModule {}
