import { Module } from '@nestjs/common';

/** Ordered Caller/Agent transcripts and call records (filled by the transcripts issue). */
@Module({})
export class TranscriptsModule {}
