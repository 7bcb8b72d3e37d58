import { BadRequestException, Controller, Get, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { FeedStreams } from './feed-streams.js';
import { AdminAccess } from '#auth';

const CALL_ID = /^[A-Za-z0-9_-]{1,128}$/;
const EVENT_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** `GET /console/api/feed`: the live feed as Server-Sent Events (docs/console.md). */
@Controller('console/api/feed')
@AdminAccess('viewer')
export class FeedController {
  constructor(private readonly streams: FeedStreams) {}

  @Get()
  async feed(
    @Req() request: Request,
    @Res() response: Response,
    @Query('lastEventId') lastEventIdQuery?: string,
    @Query('callId') callId?: string,
  ): Promise<void> {
    const header = request.headers['last-event-id'];
    const lastEventId = (typeof header === 'string' && header !== '' ? header : undefined) ?? lastEventIdQuery;
    if (lastEventId !== undefined && (typeof lastEventId !== 'string' || !EVENT_ID.test(lastEventId))) throw new BadRequestException(['lastEventId is not a feed event id']);
    if (callId !== undefined && (typeof callId !== 'string' || !CALL_ID.test(callId))) throw new BadRequestException(['callId is not a call id']);
    await this.streams.stream(response, { ...(lastEventId !== undefined ? { lastEventId } : {}), ...(callId !== undefined ? { callId } : {}) });
  }
}
