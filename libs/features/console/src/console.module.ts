import { Module } from '@nestjs/common';
import { ConfigModule, type ConfigType } from '@nestjs/config';
import { consoleConfig } from './console.config.js';
import { ConsoleFeedListener } from './feed/console-feed.listener.js';
import { FeedController } from './feed/feed.controller.js';
import { FeedLog } from './feed/feed-log.js';
import { FeedStreams } from './feed/feed-streams.js';
import { MemoryFeedLog } from './feed/memory-feed-log.js';
import { FeedShutdown, SharedFeedLog } from './feed/shared-feed-log.js';
import { CallEventsWriter } from './records/call-events.writer.js';
import { CallStories } from './records/call-story.js';
import { RecordsController } from './records/records.controller.js';
import { StatsController } from './stats/stats.controller.js';
import { ConsoleWebController } from './web/console-web.controller.js';
import { Clock } from '#resilience';
import { SharedBroadcast } from '#storage';

/**
 * Reading calls: the records API (`/calls…`: list, search, a call's story, exports), the console's statistics and
 * live feed, and the console itself at `/console`. The web controller comes last: its catch-all must not shadow
 * the API routes.
 */
@Module({
  imports: [ConfigModule.forFeature(consoleConfig)],
  controllers: [RecordsController, StatsController, FeedController, ConsoleWebController],
  providers: [
    {
      // PostgreSQL: every replica's calls, through the shared broadcast log; SQLite: this process's, in memory.
      provide: FeedLog,
      inject: [consoleConfig.KEY, SharedBroadcast, Clock],
      useFactory: async (config: ConfigType<typeof consoleConfig>, broadcast: SharedBroadcast, clock: Clock): Promise<FeedLog> => {
        if (!broadcast.available) return new MemoryFeedLog(config.feedBuffer);
        const shared = new SharedFeedLog(broadcast, config.feedBuffer, clock);
        await shared.start();
        return shared;
      },
    },
    FeedShutdown,
    FeedStreams,
    ConsoleFeedListener,
    CallEventsWriter,
    CallStories,
  ],
  exports: [FeedLog, FeedStreams, CallEventsWriter],
})
export class ConsoleModule {}
