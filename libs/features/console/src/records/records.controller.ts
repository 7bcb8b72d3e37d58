import {
  BadRequestException,
  Controller,
  Get,
  Header,
  Logger,
  NotFoundException,
  Param,
  Query,
  Req,
  Res,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { lineSummary, type CallSummary } from '../feed/feed-event.js';
import { CallStories, type CallStory } from './call-story.js';
import { CALL_LIST_COLUMNS, callListRow, csvRow, timelineCsv, timelineText } from './exports.js';
import { CallFilters, ListCallsQuery } from './list-calls.query.js';
import { AdminAccess } from '#auth';
import { CallRecordsRepository, type CallQuery, type CallRecord, type TranscriptLineRecord } from '#storage';
import { errorMessage } from '#resilience';
import { formatLine } from '#transcripts';

const CALL_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** Calls per page while an export walks the list. */
const EXPORT_PAGE = 1000;
/** The most calls one list export writes (a larger export asks for narrower filters). */
const EXPORT_MAX_CALLS = 100_000;

/**
 * The records API: every call this deployment answered, its transcript and its whole story, searchable and
 * exportable. The admin token (bearer) or a console session may read it.
 */
@Controller('calls')
@AdminAccess('viewer')
@UsePipes(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }))
export class RecordsController {
  private readonly logger = new Logger('Records');

  constructor(
    private readonly records: CallRecordsRepository,
    private readonly stories: CallStories,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async list(@Query() query: ListCallsQuery): Promise<{ calls: CallSummary[]; nextCursor?: string }> {
    const page = await this.page({ ...storageQuery(query), limit: query.limit, ...(query.cursor !== undefined ? { cursor: query.cursor } : {}) });
    const last = await this.records.lastLines(page.calls.map((call) => call.callId));
    return {
      calls: page.calls.map((call) => {
        const line = last.get(call.callId);
        return line ? { ...call, lastLine: lineSummary(line) } : call;
      }),
      ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}),
    };
  }

  /** Every call the filters match, one CSV row each, written a page at a time. */
  @Get('export.csv')
  async exportList(@Query() filters: CallFilters, @Res() response: Response): Promise<void> {
    const query = storageQuery(filters);
    let page = await this.page({ ...query, limit: EXPORT_PAGE });
    response.setHeader('content-type', 'text/csv; charset=utf-8');
    response.setHeader('content-disposition', 'attachment; filename="calls.csv"');
    response.setHeader('cache-control', 'no-store');
    response.write(csvRow(CALL_LIST_COLUMNS));
    let written = 0;
    try {
      for (;;) {
        for (const call of page.calls) response.write(callListRow(call));
        written += page.calls.length;
        if (page.nextCursor === undefined || written >= EXPORT_MAX_CALLS) break;
        page = await this.records.listCalls({ ...query, limit: EXPORT_PAGE, cursor: page.nextCursor });
      }
      response.end();
    } catch (error) {
      // The answer has begun: all that is left is to cut it short, so the download fails instead of looking whole.
      this.logger.warn(`call list export failed after ${written} calls: ${errorMessage(error)}`);
      response.destroy();
    }
  }

  @Get(':callId')
  @Header('Cache-Control', 'no-store')
  async get(@Param('callId') callId: string): Promise<CallRecord> {
    return (await this.story(callId)).call;
  }

  /** The call and everything that happened on it, in order (the console's call page). */
  @Get(':callId/timeline')
  @Header('Cache-Control', 'no-store')
  async timeline(@Param('callId') callId: string): Promise<CallStory> {
    return this.story(callId);
  }

  /** `?format=json|csv|text`, as a download. */
  @Get(':callId/export')
  async export(@Param('callId') callId: string, @Query('format') format: unknown, @Res() response: Response): Promise<void> {
    if (format !== 'json' && format !== 'csv' && format !== 'text') throw new BadRequestException(['format must be json, csv or text']);
    const story = await this.story(callId);
    const [type, extension, body] =
      format === 'json'
        ? ['application/json; charset=utf-8', 'json', JSON.stringify(story, null, 2) + '\n']
        : format === 'csv'
          ? ['text/csv; charset=utf-8', 'csv', timelineCsv(story.items)]
          : ['text/plain; charset=utf-8', 'txt', timelineText(story.call, story.items)];
    response.setHeader('content-type', type);
    response.setHeader('content-disposition', `attachment; filename="call-${callId}.${extension}"`);
    response.setHeader('cache-control', 'no-store');
    response.send(body);
  }

  /** JSON lines, or `Caller: …` / `Agent: …` text with `Accept: text/plain`. */
  @Get(':callId/transcript')
  @Header('Cache-Control', 'no-store')
  async transcript(@Param('callId') callId: string, @Req() request: Request, @Res({ passthrough: true }) response: Response) {
    await this.findCall(callId);
    const lines = await this.records.transcript(callId);
    if (request.accepts(['application/json', 'text/plain']) === 'text/plain') {
      response.type('text/plain; charset=utf-8');
      return lines.map((line) => formatLine(line)).join('\n') + (lines.length > 0 ? '\n' : '');
    }
    return { callId, lines: lines.map(({ callId: _, ...line }: TranscriptLineRecord) => line) };
  }

  private async page(query: CallQuery) {
    if (query.from && query.to && query.from >= query.to) throw new BadRequestException(['from must be before to']);
    try {
      return await this.records.listCalls(query);
    } catch (error) {
      if (error instanceof RangeError) throw new BadRequestException(['cursor is not valid']);
      throw error;
    }
  }

  private async findCall(callId: string): Promise<CallRecord> {
    const call = CALL_ID.test(callId) ? await this.records.getCall(callId) : undefined;
    if (!call) throw notFound(callId);
    return call;
  }

  private async story(callId: string): Promise<CallStory> {
    const story = CALL_ID.test(callId) ? await this.stories.read(callId) : undefined;
    if (!story) throw notFound(callId);
    return story;
  }
}

function notFound(callId: string): NotFoundException {
  return new NotFoundException(`no call ${CALL_ID.test(callId) ? callId : ''}`.trim());
}

function storageQuery(filters: CallFilters): Omit<CallQuery, 'limit'> {
  const query: Omit<CallQuery, 'limit'> = {};
  if (filters.number !== undefined) query.number = filters.number;
  if (filters.profile !== undefined) query.profile = filters.profile;
  if (filters.from !== undefined) query.from = filters.from;
  if (filters.to !== undefined) query.to = filters.to;
  if (filters.state !== undefined && filters.state !== 'all') query.state = filters.state;
  if (filters.endReason !== undefined) query.endReason = filters.endReason;
  if (filters.q !== undefined && filters.q.trim() !== '') query.q = filters.q;
  return query;
}
