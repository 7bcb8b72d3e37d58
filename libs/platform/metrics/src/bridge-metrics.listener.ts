import { Injectable } from '@nestjs/common';
import { LATENCY_BUCKETS, MetricsRegistry } from './metrics-registry.js';
import {
  OnBridgeEvent,
  isKnownServerEventType,
  type CallAcceptedEvent,
  type CallAdoptedEvent,
  type CallDetachedEvent,
  type CallEndedEvent,
  type CallRejectedEvent,
  type RealtimeEventReceived,
  type SidebandConnectedEvent,
  type ToolCompletedEvent,
  type TranscriptLine,
} from '#events';


/** Call, sideband, tool and transcript metrics, read off the bus. */
@Injectable()
export class BridgeMetricsListener {
  private readonly accepted;
  private readonly rejected;
  private readonly takenOver;
  private readonly letGo;
  private readonly ended;
  private readonly duration;
  private readonly reconnects;
  private readonly handshakeFailures;
  private readonly realtimeEvents;
  /** At most the known types and `other`. */
  private readonly eventCounters = new Map<string, { inc(): void }>();
  private readonly toolRuns;
  private readonly toolDuration;
  private readonly toolErrors;
  private readonly placeholders;
  private readonly transcriptLines;

  constructor(metrics: MetricsRegistry) {
    this.accepted = metrics.counter({ name: 'bridge_calls_accepted_total', help: 'Calls accepted, by agent profile.', labelNames: ['profile'] });
    this.takenOver = metrics.counter({ name: 'bridge_calls_taken_over_total', help: 'Live calls this replica took over from another, by cause (handover: drained; expired: its replica was lost).', labelNames: ['cause'] });
    this.letGo = metrics.counter({ name: 'bridge_calls_let_go_total', help: 'Live calls this replica let another take over, by reason (handover, lease_lost).', labelNames: ['reason'] });
    this.rejected = metrics.counter({ name: 'bridge_calls_rejected_total', help: 'Calls not answered, by reason (caller_gone, at_capacity …).', labelNames: ['reason'] });
    this.ended = metrics.counter({ name: 'bridge_calls_ended_total', help: 'Calls ended, by reason.', labelNames: ['reason'] });
    this.duration = metrics.histogram({
      name: 'bridge_call_duration_seconds',
      help: 'From accept to the end of the call.',
      labelNames: ['reason'],
      buckets: [5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600],
    });
    this.reconnects = metrics.counter({ name: 'bridge_sideband_reconnects_total', help: 'Sideband handshakes retried (an early 404 or a network error).' });
    this.handshakeFailures = metrics.counter({ name: 'bridge_sideband_handshake_failures_total', help: 'Calls whose sideband never opened.' });
    this.realtimeEvents = metrics.counter({ name: 'bridge_realtime_events_total', help: 'Realtime server events received, by type (audio deltas are never parsed or counted).', labelNames: ['type'] });
    this.toolRuns = metrics.counter({ name: 'bridge_tool_invocations_total', help: 'Tool runs finished, by tool and status.', labelNames: ['tool', 'status'] });
    this.toolDuration = metrics.histogram({ name: 'bridge_tool_duration_seconds', help: 'Tool run time, by tool.', labelNames: ['tool'], buckets: LATENCY_BUCKETS });
    this.toolErrors = metrics.counter({ name: 'bridge_tool_errors_total', help: 'Tool runs that did not succeed, by tool and status.', labelNames: ['tool', 'status'] });
    this.placeholders = metrics.counter({ name: 'bridge_transcript_placeholders_total', help: 'Caller lines released as placeholders (transcription failed or never came).' });
    this.transcriptLines = metrics.counter({ name: 'bridge_transcript_lines_total', help: 'Transcript lines released, by speaker.', labelNames: ['speaker'] });
  }

  @OnBridgeEvent('call.accepted')
  onAccepted({ profile }: CallAcceptedEvent): void {
    this.accepted.inc({ profile });
  }

  @OnBridgeEvent('call.adopted')
  onAdopted({ cause }: CallAdoptedEvent): void {
    this.takenOver.inc({ cause });
  }

  @OnBridgeEvent('call.detached')
  onDetached({ reason }: CallDetachedEvent): void {
    this.letGo.inc({ reason });
  }

  @OnBridgeEvent('call.rejected')
  onRejected({ reason }: CallRejectedEvent): void {
    this.rejected.inc({ reason });
  }

  @OnBridgeEvent('call.ended')
  onEnded({ reason, acceptedAt, endedAt }: CallEndedEvent): void {
    this.ended.inc({ reason });
    this.duration.observe({ reason }, Math.max(0, endedAt.getTime() - acceptedAt.getTime()) / 1000);
    if (reason === 'handshake_failed') this.handshakeFailures.inc();
  }

  @OnBridgeEvent('sideband.connected')
  onConnected({ attempts }: SidebandConnectedEvent): void {
    if (attempts > 1) this.reconnects.inc(attempts - 1);
  }

  @OnBridgeEvent('realtime.event')
  onRealtimeEvent({ event }: RealtimeEventReceived): void {
    // Every event of every call passes here: the labelled child is looked up once per type, not hashed per event.
    // Types the SDK does not know (new or misspelt ones from the wire) are counted as `other`, so that a sender
    // cannot grow the number of series.
    const type = isKnownServerEventType(event.type) ? event.type : 'other';
    let counter = this.eventCounters.get(type);
    if (counter === undefined) {
      counter = this.realtimeEvents.labels(type);
      this.eventCounters.set(type, counter);
    }
    counter.inc();
  }

  @OnBridgeEvent('tool.completed')
  onToolCompleted({ name, status, durationMs }: ToolCompletedEvent): void {
    // Names come from the model: unknown ones are counted under one label.
    const tool = status === 'unknown_tool' ? 'unknown' : name;
    this.toolRuns.inc({ tool, status });
    this.toolDuration.observe({ tool }, durationMs / 1000);
    if (status !== 'succeeded') this.toolErrors.inc({ tool, status });
  }

  @OnBridgeEvent('transcript.line')
  onLine({ speaker, placeholder }: TranscriptLine): void {
    this.transcriptLines.inc({ speaker });
    if (placeholder) this.placeholders.inc();
  }
}
