import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { TranscriptAssembler } from './transcript-assembler.js';
import { transcriptsConfig } from './transcripts.config.js';
import type { ConfigType } from '#config';
import {
  EventBus,
  OnBridgeEvent,
  type CallAcceptedEvent,
  type CallAdoptedEvent,
  type CallDetachedEvent,
  type CallEndedEvent,
  type RealtimeEventReceived,
  type TranscriptLine,
} from '#events';

/** How often overdue caller turns are checked (they then become `[inaudible]` placeholders). */
const TICK_MS = 250;

/**
 * One transcript assembler per live call: realtime events in, `transcript.line` out in conversation order, and
 * `call.transcript.completed` with the whole transcript when the call ends.
 */
@Injectable()
export class LiveTranscripts implements OnModuleDestroy {
  private readonly logger = new Logger(LiveTranscripts.name);
  private readonly assemblers = new Map<string, TranscriptAssembler>();
  private readonly ticker = setInterval(() => this.tick(), TICK_MS).unref();

  constructor(
    private readonly bus: EventBus,
    @Inject(transcriptsConfig.KEY) private readonly config: ConfigType<typeof transcriptsConfig>,
  ) {}

  get activeCount(): number {
    return this.assemblers.size;
  }

  /** The lines a live call has released so far, in order (empty for a call that is not live here). */
  linesSoFar(callId: string): readonly TranscriptLine[] {
    return this.assemblers.get(callId)?.lines ?? [];
  }

  @OnBridgeEvent('call.accepted')
  start({ callId, callerTranscription }: CallAcceptedEvent): void {
    this.assemble(callId, callerTranscription, []);
  }

  /** A call taken over from another replica: its lines so far are stored, the next one continues their numbering. */
  @OnBridgeEvent('call.adopted')
  resume({ callId, callerTranscription, priorLines }: CallAdoptedEvent): void {
    this.assemble(callId, callerTranscription, priorLines);
  }

  /** Handed to another replica: what was still being spoken here is lost (the new owner hears what follows). */
  @OnBridgeEvent('call.detached')
  drop({ callId }: CallDetachedEvent): void {
    this.assemblers.delete(callId);
  }

  private assemble(callId: string, callerTranscription: boolean, priorLines: readonly TranscriptLine[]): void {
    this.assemblers.set(
      callId,
      new TranscriptAssembler({
        callId,
        placeholderAfterMs: this.config.placeholderAfterMs,
        callerTranscription,
        priorLines,
        onLine: (line) => this.bus.emit('transcript.line', line),
      }),
    );
  }

  @OnBridgeEvent('realtime.event')
  handle({ callId, event }: RealtimeEventReceived): void {
    this.assemblers.get(callId)?.handle(event);
  }

  @OnBridgeEvent('call.ended')
  finish(ended: CallEndedEvent): void {
    const { callId } = ended;
    const assembler = this.assemblers.get(callId);
    if (!assembler) return;
    this.assemblers.delete(callId);
    const lines = assembler.finish();
    this.logger.log(`[${callId}] transcript complete: ${lines.length} line(s)`);
    this.bus.emit('call.transcript.completed', { callId, lines: [...lines], ended });
  }

  onModuleDestroy(): void {
    clearInterval(this.ticker);
  }

  private tick(): void {
    const now = Date.now();
    for (const assembler of this.assemblers.values()) {
      const deadline = assembler.nextDeadline;
      if (deadline !== undefined && deadline <= now) assembler.tick();
    }
  }
}
