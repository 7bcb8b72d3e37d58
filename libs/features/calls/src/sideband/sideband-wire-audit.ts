import { Injectable, Logger } from '@nestjs/common';
import { isKnownServerEventType, unknownFieldsOf, type RealtimeServerEvent } from '#events';
import { MetricsRegistry } from '#metrics';

/** A sideband frame that carries no event the bridge can read. */
export type IgnoredFrame = 'binary' | 'not_json' | 'no_type';

/** Distinct (type, field) sightings logged by the process; past this, sightings are only counted. */
const MAX_NOTED = 200;
/** Longest wire text (an event type, a field name) quoted in a log line. */
const MAX_QUOTED = 64;

/**
 * What the sideband sends that the bridge does not know: event types and fields the SDK does not declare, and
 * frames without a readable event. None of it fails a call (the API may grow at any time), and none of it is
 * dropped silently: each is counted, and the first sighting of each type, field or frame kind is logged once per
 * process (with names only, never values).
 */
@Injectable()
export class SidebandWireAudit {
  private readonly logger = new Logger('Sideband');
  private readonly noted = new Set<string>();
  private readonly unknownTypes;
  private readonly unknownFields;
  private readonly ignoredFrames;
  private readonly handshakeRefusals;

  constructor(metrics: MetricsRegistry) {
    this.unknownTypes = metrics.counter({
      name: 'bridge_realtime_unknown_event_types_total',
      help: 'Realtime server events of a type the SDK does not declare (each type is logged once).',
    });
    this.unknownFields = metrics.counter({
      name: 'bridge_realtime_unknown_fields_total',
      help: 'Top-level fields the SDK does not declare, on known realtime server events, by event type.',
      labelNames: ['type'],
    });
    this.ignoredFrames = metrics.counter({
      name: 'bridge_sideband_ignored_frames_total',
      help: 'Sideband frames without a readable event (binary, not JSON, no type), by kind.',
      labelNames: ['kind'],
    });
    this.handshakeRefusals = metrics.counter({
      name: 'bridge_sideband_handshake_refusals_total',
      help: 'Sideband handshakes refused for good (401/403: an API key of another project), by status.',
      labelNames: ['status'],
    });
  }

  /** Looks at one server event (GA name) on its way to the bus. Costs a map lookup and a key scan. */
  inspect(callId: string, event: RealtimeServerEvent): void {
    if (!isKnownServerEventType(event.type)) {
      this.unknownTypes.inc();
      this.noteOnce(`type:${event.type}`, () => `[${callId}] realtime event of a type this bridge does not know, ignored: ${quote(event.type)}`);
      return;
    }
    const extra = unknownFieldsOf(event);
    if (extra.length === 0) return;
    this.unknownFields.inc({ type: event.type }, extra.length);
    for (const field of extra) {
      this.noteOnce(`field:${event.type}:${field}`, () => `[${callId}] realtime ${event.type} carries a field this bridge does not know: ${quote(field)}`);
    }
  }

  ignoredFrame(callId: string, kind: IgnoredFrame, size: number): void {
    this.ignoredFrames.inc({ kind });
    this.noteOnce(`frame:${kind}`, () => `[${callId}] sideband frame ignored (${kind.replace('_', ' ')}, ${size} bytes); further ones are only counted`);
  }

  handshakeRefused(status: number): void {
    this.handshakeRefusals.inc({ status: String(status) });
  }

  private noteOnce(key: string, message: () => string): void {
    if (this.noted.has(key) || this.noted.size >= MAX_NOTED) return;
    this.noted.add(key);
    this.logger.warn(message());
  }
}

/** Wire text in a log line: bounded, on one line. */
function quote(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, '?');
  return JSON.stringify(clean.length > MAX_QUOTED ? `${clean.slice(0, MAX_QUOTED)}…` : clean);
}
