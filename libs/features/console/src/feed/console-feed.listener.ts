import { Injectable } from '@nestjs/common';
import { FeedLog } from './feed-log.js';
import { lineSummary, type CallSummary } from './feed-event.js';
import {
  OnBridgeEvent,
  type CallAcceptedEvent,
  type CallAdoptedEvent,
  type CallDetachedEvent,
  type CallDtmfEvent,
  type CallEndedEvent,
  type CallRejectedEvent,
  type CallTransferEvent,
  type RealtimeEventReceived,
  type ToolCompletedEvent,
  type ToolStartedEvent,
  type TranscriptLine,
} from '#events';
import { Clock } from '#resilience';
import type { NewCallRecord } from '#storage';
import { acceptedRecord, callEndOf, rejectedRecord } from '#transcripts';
import { realtimeErrorMessage } from '../records/call-events.writer.js';
import { completedToolItem, dtmfItem, endItem, lineItem, startedToolItem, transferItem, type TimelineItem } from '../timeline.js';

interface LiveCall {
  summary: CallSummary;
  /** Each running tool's arguments (the completion event does not repeat them). */
  toolArguments: Map<string, string | null>;
}

/**
 * Puts what this replica's calls do on the live feed: a call when it appears and when it ends, and every timeline
 * item (lines as released, tool runs, key presses, transfers) as it happens. Only enqueues: nothing here waits.
 */
@Injectable()
export class ConsoleFeedListener {
  /** This replica's live calls (bounded by the calls it holds). */
  private readonly live = new Map<string, LiveCall>();

  constructor(
    private readonly feed: FeedLog,
    private readonly clock: Clock,
  ) {}

  @OnBridgeEvent('call.accepted')
  onAccepted(event: CallAcceptedEvent): void {
    const summary = summaryOf(acceptedRecord(event));
    this.live.set(event.callId, { summary, toolArguments: new Map() });
    this.feed.publish({ type: 'call', call: summary });
  }

  /** Taken over from another replica: this one now puts the call's story on the feed, from its last stored line. */
  @OnBridgeEvent('call.adopted')
  onAdopted(event: CallAdoptedEvent): void {
    const last = event.priorLines.at(-1);
    const summary = summaryOf(acceptedRecord(event));
    this.live.set(event.callId, { summary: last ? { ...summary, lastLine: lineSummary(lineItem(last)) } : summary, toolArguments: new Map() });
    this.timeline(event.callId, { kind: 'owner', at: new Date(this.clock.now()), cause: event.cause });
  }

  /** Handed over or taken over by another replica: that one reports the rest. */
  @OnBridgeEvent('call.detached')
  onDetached({ callId }: CallDetachedEvent): void {
    this.live.delete(callId);
  }

  @OnBridgeEvent('call.rejected')
  onRejected(event: CallRejectedEvent): void {
    this.feed.publish({ type: 'call', call: summaryOf(rejectedRecord(event, new Date(this.clock.now()))) });
  }

  @OnBridgeEvent('transcript.line')
  onLine(line: TranscriptLine): void {
    const item = lineItem(line);
    const call = this.live.get(line.callId);
    if (call) call.summary = { ...call.summary, lastLine: lineSummary(item) };
    this.timeline(line.callId, item);
  }

  @OnBridgeEvent('tool.started')
  onToolStarted(event: ToolStartedEvent): void {
    const item = startedToolItem(event);
    this.live.get(event.callId)?.toolArguments.set(event.toolCallId, item.arguments);
    this.timeline(event.callId, item);
  }

  @OnBridgeEvent('tool.completed')
  onToolCompleted(event: ToolCompletedEvent): void {
    const args = this.live.get(event.callId)?.toolArguments;
    const item = completedToolItem(event, args?.get(event.toolCallId) ?? null);
    args?.delete(event.toolCallId);
    this.timeline(event.callId, item);
  }

  @OnBridgeEvent('call.dtmf')
  onDtmf(event: CallDtmfEvent): void {
    // When it reached us, as stored (OpenAI's `received_at` has whole seconds only).
    this.timeline(event.callId, dtmfItem({ ...event, receivedAt: new Date(this.clock.now()) }));
  }

  @OnBridgeEvent('call.transfer')
  onTransfer(event: CallTransferEvent): void {
    this.timeline(event.callId, transferItem(event));
  }

  /** OpenAI's `error` events on the call (a rejected client event, a failed response). */
  @OnBridgeEvent('realtime.event')
  onRealtime({ callId, event }: RealtimeEventReceived): void {
    if (event.type !== 'error') return;
    this.timeline(callId, { kind: 'error', at: new Date(this.clock.now()), message: realtimeErrorMessage(event) });
  }

  @OnBridgeEvent('call.ended')
  onEnded(event: CallEndedEvent): void {
    const call = this.live.get(event.callId);
    this.live.delete(event.callId);
    if (!call) return;
    const ended: CallSummary = { ...call.summary, ...callEndOf(event) };
    const end = endItem(ended);
    if (end) this.timeline(event.callId, end);
    this.feed.publish({ type: 'call', call: ended });
  }

  private timeline(callId: string, item: TimelineItem): void {
    this.feed.publish({ type: 'timeline', callId, item });
  }
}

function summaryOf(record: NewCallRecord): CallSummary {
  return { ...record, status: record.status ?? 'active', endedAt: record.endedAt ?? null, endReason: record.endReason ?? null };
}
