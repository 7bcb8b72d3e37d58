export { TranscriptsModule } from './transcripts.module.js';
export { LiveTranscripts } from './live-transcripts.service.js';
export { CallRecordWriter, acceptedRecord, callEndOf, rejectedRecord } from './call-record-writer.service.js';
export { TranscriptAssembler, type TranscriptAssemblerOptions } from './transcript-assembler.js';
export { formatLine, INAUDIBLE, type Speaker } from './transcript-line.js';
export { transcriptsConfig } from './transcripts.config.js';
