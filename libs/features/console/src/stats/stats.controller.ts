import { BadRequestException, Controller, Get, Header, Query } from '@nestjs/common';
import { AdminAccess } from '#auth';
import { CallRecordsRepository, type CallStats } from '#storage';
import { Clock } from '#resilience';

const HOUR = 3_600_000;
/** The windows the charts offer: how far back, and how wide a bar is. */
const WINDOWS = {
  '24h': { spanMs: 24 * HOUR, bucketMs: HOUR },
  '7d': { spanMs: 7 * 24 * HOUR, bucketMs: 6 * HOUR },
} as const;
/** Duration histogram bounds, seconds: under 30 s, 1 min, 2, 5, 10, 30 min, and longer. */
export const DURATION_BOUNDS_SECONDS = [30, 60, 120, 300, 600, 1800];

export type StatsWindow = keyof typeof WINDOWS;

/** What the endpoint answers: the window's figures and which window it is. */
export type StatsAnswer = CallStats & { window: StatsWindow };

/** `GET /console/api/stats?window=24h|7d`: everything the console's charts draw, in one answer. */
@Controller('console/api/stats')
@AdminAccess('viewer')
export class StatsController {
  constructor(
    private readonly records: CallRecordsRepository,
    private readonly clock: Clock,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async stats(@Query('window') window: unknown = '24h'): Promise<StatsAnswer> {
    if (window !== '24h' && window !== '7d') throw new BadRequestException(['window must be 24h or 7d']);
    const { spanMs, bucketMs } = WINDOWS[window];
    // Buckets on whole hours (UTC), the last one holding now.
    const to = new Date(Math.floor(this.clock.now() / HOUR) * HOUR + HOUR);
    const from = new Date(to.getTime() - spanMs);
    const stats = await this.records.stats({ from, to, bucketMs, durationBoundsSeconds: DURATION_BOUNDS_SECONDS });
    return { window, ...stats };
  }
}
