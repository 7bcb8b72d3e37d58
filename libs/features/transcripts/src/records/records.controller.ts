import {
  BadRequestException,
  Controller,
  Get,
  Header,
  NotFoundException,
  Param,
  Query,
  Req,
  Res,
  UseGuards,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { formatLine } from '../transcript-line.js';
import { AdminTokenGuard } from './admin-token.guard.js';
import { ListCallsQuery } from './list-calls.query.js';
import { CallRecordsRepository, type CallRecord, type TranscriptLineRecord } from '#storage';

const CALL_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** The records API: every call this deployment answered, and its transcript. */
@Controller('calls')
@UseGuards(AdminTokenGuard)
@UsePipes(new ValidationPipe({ transform: true, whitelist: true, forbidNonWhitelisted: true }))
export class RecordsController {
  constructor(private readonly records: CallRecordsRepository) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async list(@Query() query: ListCallsQuery): Promise<{ calls: CallRecord[]; nextCursor?: string }> {
    if (query.from && query.to && query.from >= query.to) throw new BadRequestException(['from must be before to']);
    try {
      return await this.records.listCalls(query);
    } catch (error) {
      if (error instanceof RangeError) throw new BadRequestException(['cursor is not valid']);
      throw error;
    }
  }

  @Get(':callId')
  @Header('Cache-Control', 'no-store')
  async get(@Param('callId') callId: string): Promise<CallRecord> {
    return this.findCall(callId);
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

  private async findCall(callId: string): Promise<CallRecord> {
    const call = CALL_ID.test(callId) ? await this.records.getCall(callId) : undefined;
    if (!call) throw new NotFoundException(`no call ${CALL_ID.test(callId) ? callId : ''}`.trim());
    return call;
  }
}
