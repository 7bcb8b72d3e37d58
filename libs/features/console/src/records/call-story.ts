import { Injectable } from '@nestjs/common';
import { CallEvents, CallRecordsRepository, ToolInvocations, type CallEventRecord, type CallRecord } from '#storage';
import { dtmfItem, endItem, lineItem, orderTimeline, toolItem, transferItem, type TimelineItem } from '../timeline.js';

/** A stored call with everything that happened on it, in order. */
export interface CallStory {
  call: CallRecord;
  items: TimelineItem[];
}

/** Reads a call's whole story from storage: its lines, tool runs, key presses, transfers, errors and end. */
@Injectable()
export class CallStories {
  constructor(
    private readonly records: CallRecordsRepository,
    private readonly tools: ToolInvocations,
    private readonly events: CallEvents,
  ) {}

  async read(callId: string): Promise<CallStory | undefined> {
    const call = await this.records.getCall(callId);
    if (!call) return undefined;
    const [lines, runs, events] = await Promise.all([this.records.transcript(callId), this.tools.forCall(callId), this.events.forCall(callId)]);
    const end = endItem(call);
    const items = [...lines.map(lineItem), ...runs.map(toolItem), ...events.flatMap(eventItem), ...(end ? [end] : [])];
    return { call, items: orderTimeline(items) };
  }
}

function eventItem(event: CallEventRecord): TimelineItem[] {
  const data = event.data;
  const text = (key: string) => (typeof data[key] === 'string' ? (data[key] as string) : undefined);
  switch (event.kind) {
    case 'dtmf': {
      const key = text('key');
      if (key === undefined) return [];
      const action = text('action');
      return [dtmfItem({ key, receivedAt: event.at, ...(action !== undefined ? { action } : {}) })];
    }
    case 'transfer': {
      const status = text('status');
      if (status === undefined) return [];
      const detail = text('detail');
      return [transferItem({ attempt: text('attempt') ?? '', status: status as never, at: event.at, ...(detail !== undefined ? { detail } : {}) })];
    }
    case 'error':
      return [{ kind: 'error', at: event.at, message: text('message') ?? 'error' }];
    case 'owner': {
      const cause = text('cause');
      return cause === 'handover' || cause === 'expired' ? [{ kind: 'owner', at: event.at, cause }] : [];
    }
    case 'supervisor': {
      const action = text('action');
      const status = text('status');
      if ((action !== 'whisper' && action !== 'hangup' && action !== 'transfer') || (status !== 'done' && status !== 'failed')) return [];
      const detail = text('detail');
      return [{ kind: 'supervisor', at: event.at, action, by: text('by') ?? '', status, ...(detail !== undefined ? { detail } : {}) }];
    }
    default:
      return [];
  }
}
