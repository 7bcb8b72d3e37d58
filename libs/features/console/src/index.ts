export { ConsoleModule } from './console.module.js';
export { consoleConfig } from './console.config.js';
export { FeedLog, RESET } from './feed/feed-log.js';
export { MemoryFeedLog } from './feed/memory-feed-log.js';
export { FeedStreams } from './feed/feed-streams.js';
export { CallEventsWriter } from './records/call-events.writer.js';
export { CONSOLE_CSP } from './web/console-assets.js';
export type { CallSummary, FeedEntry, FeedEvent, LineSummary } from './feed/feed-event.js';
export type { TimelineItem } from './timeline.js';
