import type { RealtimeClientEvent, RealtimeServerEvent } from '#events';
import { systemClock, type Clock, type Timer } from '#resilience';

export interface CallConversationOptions {
  /** Sends a client event on the call's sideband; false when the call is no longer attached. */
  send: (event: RealtimeClientEvent) => boolean;
  /** How long a `response.create` we sent may go without a `response.created` before another may be sent. */
  createdTimeoutMs?: number;
  /** After a response is done without having started any audio, how long to wait for its playback to start. */
  playbackStartGraceMs?: number;
  /** The clock of every wait and timeout here (default: the system clock). */
  clock?: Clock;
}

type Observer = (event: RealtimeServerEvent | undefined) => void;

/**
 * What the bridge knows about one call's conversation, for acting in it without stepping on the agent: which
 * responses are in progress, whether audio is playing, and which tool runs are still out. It decides when a
 * `response.create` may be sent — never while a response is in progress (the Realtime API rejects it with
 * `conversation_already_has_active_response`), and, for the one that follows tool outputs, only once every tool the
 * model called has answered, so the model sees all its results at once.
 */
export class CallConversation {
  private readonly active = new Set<string>();
  private playing = false;
  private runs = 0;
  private ended = false;
  /** A plain `response.create` (after tool outputs or key presses) is wanted; several requests make one. */
  private followUpWanted = false;
  /** `response.create` with instructions (`say`), in order; they do not wait for tool runs. */
  private readonly instructed: Array<Record<string, unknown>> = [];
  private awaitingCreated?: { eventId: string; timer: Timer };
  private readonly observers = new Set<Observer>();
  private sequence = 0;
  private readonly createdTimeoutMs: number;
  private readonly playbackStartGraceMs: number;
  private readonly clock: Clock;

  constructor(private readonly options: CallConversationOptions) {
    this.createdTimeoutMs = options.createdTimeoutMs ?? 5000;
    this.playbackStartGraceMs = options.playbackStartGraceMs ?? 500;
    this.clock = options.clock ?? systemClock;
  }

  /** No response in progress or requested, and no audio playing. */
  get silent(): boolean {
    return this.active.size === 0 && !this.playing && this.awaitingCreated === undefined;
  }

  get hasEnded(): boolean {
    return this.ended;
  }

  /** Tool runs begun and not yet answered. */
  get runsInFlight(): number {
    return this.runs;
  }

  /** Feeds a server event of the call. */
  observe(event: RealtimeServerEvent): void {
    switch (event.type) {
      case 'response.created': {
        const id = responseIdOf(event);
        if (id) this.active.add(id);
        // Ours or one the server made for a caller turn: either way a response is now in progress.
        this.clearAwaitingCreated();
        break;
      }
      case 'response.done': {
        const id = responseIdOf(event);
        if (id) this.active.delete(id);
        else this.active.clear();
        break;
      }
      case 'output_audio_buffer.started':
        this.playing = true;
        break;
      case 'output_audio_buffer.stopped':
      case 'output_audio_buffer.cleared':
        this.playing = false;
        break;
      case 'error': {
        const eventId = (event.error as { event_id?: unknown } | undefined)?.event_id;
        if (this.awaitingCreated && eventId === this.awaitingCreated.eventId) this.clearAwaitingCreated();
        break;
      }
      default:
        return;
    }
    for (const observer of this.observers) observer(event);
    this.pump();
  }

  /**
   * Asks for a response: with `response` options (instructions …) it is sent as soon as no response is in progress;
   * without, it is the follow-up to tool outputs or caller input and also waits for every tool run to answer.
   */
  requestResponse(response?: Record<string, unknown>): void {
    if (this.ended) return;
    if (response) this.instructed.push(response);
    else this.followUpWanted = true;
    this.pump();
  }

  /** A tool run has started; call the returned function (once) when its output has been sent. */
  beginRun(): () => void {
    this.runs++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.runs--;
      this.pump();
    };
  }

  /** Resolves true once the agent is silent, false after `maxWaitMs` or when the call ends first. */
  whenSilent(maxWaitMs: number): Promise<boolean> {
    return this.waitFor(() => this.silent, maxWaitMs);
  }

  /**
   * Resolves when the next response the agent starts has finished playing: `response.done` for it, and its audio
   * stopped (or cleared); a response that is done without having started any audio counts as played after a short
   * grace. `'timeout'` after `maxWaitMs`, `'ended'` when the call ends first.
   */
  afterNextResponsePlayed(maxWaitMs: number): Promise<'played' | 'timeout' | 'ended'> {
    let target: string | undefined;
    let done = false;
    let started = false;
    let graceOver = false;
    let grace: Timer | undefined;
    return new Promise((resolve) => {
      const finish = (outcome: 'played' | 'timeout' | 'ended') => {
        this.clock.clearTimeout(limit);
        this.clock.clearTimeout(grace);
        this.observers.delete(observer);
        resolve(outcome);
      };
      const observer: Observer = (event) => {
        if (event === undefined) return finish('ended');
        const id = responseIdOf(event);
        if (event.type === 'response.created' && target === undefined) target = id ?? '';
        if (target === undefined) return;
        if (event.type === 'response.done' && (id === target || id === undefined)) done = true;
        if (event.type === 'output_audio_buffer.started' && (id === undefined || id === target)) started = true;
        if (!done || this.playing) return;
        if (started || graceOver) return finish('played');
        if (grace) return;
        grace = this.clock.setTimeout(() => {
          graceOver = true;
          observer({ type: 'grace' });
        }, this.playbackStartGraceMs);
      };
      const limit = this.clock.setTimeout(() => finish('timeout'), maxWaitMs);
      if (this.ended) return finish('ended');
      this.observers.add(observer);
    });
  }

  /** The call has ended: waits resolve, nothing more is sent. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.clearAwaitingCreated();
    this.instructed.length = 0;
    this.followUpWanted = false;
    for (const observer of [...this.observers]) observer(undefined);
    this.observers.clear();
  }

  private waitFor(condition: () => boolean, maxWaitMs: number): Promise<boolean> {
    if (this.ended) return Promise.resolve(false);
    if (condition()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const finish = (value: boolean) => {
        this.clock.clearTimeout(limit);
        this.observers.delete(observer);
        resolve(value);
      };
      const observer: Observer = (event) => {
        if (event === undefined) finish(false);
        else if (condition()) finish(true);
      };
      const limit = this.clock.setTimeout(() => finish(condition()), maxWaitMs);
      this.observers.add(observer);
    });
  }

  private pump(): void {
    if (this.ended || this.active.size > 0 || this.awaitingCreated) return;
    let response: Record<string, unknown> | undefined;
    if (this.instructed.length > 0) {
      response = this.instructed.shift();
    } else if (this.followUpWanted && this.runs === 0) {
      this.followUpWanted = false;
    } else {
      return;
    }
    const eventId = `evt_tools_${++this.sequence}`;
    const sent = this.options.send({ type: 'response.create', event_id: eventId, ...(response ? { response } : {}) });
    if (!sent) return;
    const timer = this.clock.setTimeout(() => {
      if (this.awaitingCreated?.eventId !== eventId) return;
      this.awaitingCreated = undefined;
      this.pump();
    }, this.createdTimeoutMs);
    this.awaitingCreated = { eventId, timer };
  }

  private clearAwaitingCreated(): void {
    if (!this.awaitingCreated) return;
    this.clock.clearTimeout(this.awaitingCreated.timer);
    this.awaitingCreated = undefined;
  }
}

/** The response an event is about: `response.id` on the response lifecycle, `response_id` on the others. */
function responseIdOf(event: RealtimeServerEvent): string | undefined {
  const id = (event.response as { id?: unknown } | undefined)?.id ?? event.response_id;
  return typeof id === 'string' ? id : undefined;
}
