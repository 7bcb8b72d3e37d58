/**
 * Conversation scripts: what the emulated OpenAI side says on a call's sideband, turn by turn, with the ordering
 * difficulties of the real service (caller transcriptions that complete after the agent answered, interrupted
 * responses, tool calls announced three times, DTMF, errors, beta event names).
 */
export type ServerEvent = { type: string; [field: string]: unknown };

export type ScriptStep =
  | { kind: 'send'; event: ServerEvent }
  | { kind: 'raw'; frame: string }
  | { kind: 'binary'; bytes: number }
  | { kind: 'pause'; ms: number }
  | { kind: 'expect'; type: string; timeoutMs: number; count?: number }
  | { kind: 'hangup'; close?: HangupClose };

/**
 * How the sideband closes when the caller hangs up: `normal` (1000, what the service does), `no-status` (a close frame
 * without a code: the bridge sees 1005), or `abnormal` (the TCP connection just drops: 1006).
 */
export type HangupClose = 'normal' | 'no-status' | 'abnormal';

/**
 * What a call plays: a `ConversationScript`, or any source of steps — a generator that builds the conversation as it
 * is played lets a call go on for as long as a benchmark needs without holding the whole script in memory.
 */
export interface ScriptSource {
  readonly steps: Iterable<ScriptStep>;
}

export interface CallerTurnOptions {
  /** `inline` (default): completes before the agent answers; `late`: after the agent's next turn. */
  transcription?: 'inline' | 'late' | 'failed' | 'never';
}

export interface AgentTurnOptions {
  /** Cut the turn after this many words, as when the caller talks over the agent. */
  interruptedAfterWords?: number;
  modality?: 'audio' | 'text';
  /** Use the beta event names (`response.audio_transcript.*`, `conversation.item.created`, `response.text.*`). */
  beta?: boolean;
  /** Audio delta frames to interleave (base64 payload of this many bytes each); 0 by default. */
  audioDeltas?: number;
  audioDeltaBytes?: number;
  /**
   * Report playback as SIP calls do: `output_audio_buffer.started` with the first words. The audio keeps playing
   * after `response.done` until `playbackStopped()` (put a `pause()` before it for the playing time).
   */
  playback?: boolean;
}

export interface ToolCallOptions {
  /** Which events report the finished call (default: all three, as the real service does). */
  announce?: Array<'arguments_done' | 'output_item_done' | 'response_done'>;
  /** Arguments sent verbatim instead of JSON.stringify(args) (to send invalid JSON). */
  rawArguments?: string;
  callId?: string;
}

export class ConversationScript {
  readonly steps: ScriptStep[] = [];
  private lastItemId: string | null = null;
  private counter = 0;
  private audioMs = 0;
  private deferred: ServerEvent[] = [];
  private playingResponseId?: string;

  /** A caller turn: speech, commit, the item, then its transcription (now, late, failed or never). */
  callerSays(text: string, options: CallerTurnOptions = {}): this {
    const itemId = `item_caller_${++this.counter}`;
    const start = this.audioMs;
    this.audioMs += 400 + text.length * 60;
    this.send({ type: 'input_audio_buffer.speech_started', item_id: itemId, audio_start_ms: start });
    this.send({ type: 'input_audio_buffer.speech_stopped', item_id: itemId, audio_end_ms: this.audioMs });
    this.send({ type: 'input_audio_buffer.committed', item_id: itemId, previous_item_id: this.lastItemId });
    this.send({
      type: 'conversation.item.added',
      previous_item_id: this.lastItemId,
      item: {
        id: itemId,
        object: 'realtime.item',
        type: 'message',
        role: 'user',
        status: 'completed',
        content: [{ type: 'input_audio', transcript: null }],
      },
    });
    this.lastItemId = itemId;

    const transcription: ServerEvent[] = [];
    const mode = options.transcription ?? 'inline';
    if (mode === 'failed') {
      transcription.push({
        type: 'conversation.item.input_audio_transcription.failed',
        item_id: itemId,
        content_index: 0,
        error: { type: 'transcription_error', code: 'audio_unintelligible', message: 'Audio could not be transcribed.' },
      });
    } else if (mode !== 'never') {
      for (const word of words(text)) {
        transcription.push({
          type: 'conversation.item.input_audio_transcription.delta',
          item_id: itemId,
          content_index: 0,
          delta: word,
        });
      }
      transcription.push({
        type: 'conversation.item.input_audio_transcription.completed',
        item_id: itemId,
        content_index: 0,
        transcript: text,
        usage: { type: 'tokens', total_tokens: 22, input_tokens: 13, output_tokens: 9 },
      });
    }
    if (mode === 'late') this.deferred.push(...transcription);
    else transcription.forEach((e) => this.send(e));
    return this;
  }

  /** An agent turn: a response with one assistant message whose transcript streams as deltas. */
  agentSays(text: string, options: AgentTurnOptions = {}): this {
    const n = ++this.counter;
    const responseId = `resp_${n}`;
    const itemId = `item_agent_${n}`;
    const beta = options.beta ?? false;
    const textMode = options.modality === 'text';
    const deltaType = textMode
      ? beta ? 'response.text.delta' : 'response.output_text.delta'
      : beta ? 'response.audio_transcript.delta' : 'response.output_audio_transcript.delta';
    const doneType = textMode
      ? beta ? 'response.text.done' : 'response.output_text.done'
      : beta ? 'response.audio_transcript.done' : 'response.output_audio_transcript.done';
    const item = { id: itemId, object: 'realtime.item', type: 'message', role: 'assistant', content: [] };

    this.send({ type: 'response.created', response: { id: responseId, object: 'realtime.response', status: 'in_progress', output: [] } });
    this.send({ type: 'response.output_item.added', response_id: responseId, output_index: 0, item: { ...item, status: 'in_progress' } });
    this.send({
      type: beta ? 'conversation.item.created' : 'conversation.item.added',
      previous_item_id: this.lastItemId,
      item: { ...item, status: 'in_progress' },
    });
    this.lastItemId = itemId;

    const all = words(text);
    const cut = options.interruptedAfterWords;
    const spoken = cut !== undefined ? all.slice(0, cut) : all;
    const audio = Buffer.alloc(options.audioDeltaBytes ?? 4800, 7).toString('base64');
    spoken.forEach((word, index) => {
      this.send({ type: deltaType, response_id: responseId, item_id: itemId, output_index: 0, content_index: 0, delta: word });
      if (options.playback && index === 0) {
        this.playingResponseId = responseId;
        this.send({ type: 'output_audio_buffer.started', response_id: responseId });
      }
      if (options.audioDeltas && index < options.audioDeltas) {
        this.send({
          type: beta ? 'response.audio.delta' : 'response.output_audio.delta',
          response_id: responseId,
          item_id: itemId,
          output_index: 0,
          content_index: 0,
          delta: audio,
        });
      }
    });
    const said = spoken.join('').trim();
    if (cut !== undefined) {
      // The caller talks over the agent: the server cancels the response (reason turn_detected).
      this.send({ type: 'input_audio_buffer.speech_started', item_id: `item_caller_${this.counter + 1}`, audio_start_ms: this.audioMs });
    }
    this.send({ type: doneType, response_id: responseId, item_id: itemId, output_index: 0, content_index: 0, [textMode ? 'text' : 'transcript']: said });
    const status = cut !== undefined ? 'incomplete' : 'completed';
    this.send({ type: 'response.output_item.done', response_id: responseId, output_index: 0, item: { ...item, status } });
    this.send({
      type: 'response.done',
      response: {
        id: responseId,
        object: 'realtime.response',
        status: cut !== undefined ? 'cancelled' : 'completed',
        status_details: cut !== undefined ? { type: 'cancelled', reason: 'turn_detected' } : null,
        output: [{ ...item, status }],
      },
    });
    this.flushDeferred();
    return this;
  }

  /** The model calls a function; by default reported by all three events that carry it. */
  toolCall(name: string, args: unknown, options: ToolCallOptions = {}): this {
    const n = ++this.counter;
    const responseId = `resp_${n}`;
    const itemId = `item_fc_${n}`;
    const callId = options.callId ?? `call_${n}`;
    const argumentsText = options.rawArguments ?? JSON.stringify(args);
    const announce = options.announce ?? ['arguments_done', 'output_item_done', 'response_done'];
    const item = { id: itemId, object: 'realtime.item', type: 'function_call', call_id: callId, name };
    this.send({ type: 'response.created', response: { id: responseId, object: 'realtime.response', status: 'in_progress', output: [] } });
    this.send({ type: 'response.output_item.added', response_id: responseId, output_index: 0, item: { ...item, status: 'in_progress', arguments: '' } });
    this.send({ type: 'conversation.item.added', previous_item_id: this.lastItemId, item: { ...item, status: 'in_progress', arguments: '' } });
    this.lastItemId = itemId;
    this.send({ type: 'response.function_call_arguments.delta', response_id: responseId, item_id: itemId, output_index: 0, call_id: callId, delta: argumentsText });
    if (announce.includes('arguments_done')) {
      this.send({ type: 'response.function_call_arguments.done', response_id: responseId, item_id: itemId, output_index: 0, call_id: callId, name, arguments: argumentsText });
    }
    const done = { ...item, status: 'completed', arguments: argumentsText };
    if (announce.includes('output_item_done')) {
      this.send({ type: 'response.output_item.done', response_id: responseId, output_index: 0, item: done });
    }
    this.send({
      type: 'response.done',
      response: { id: responseId, object: 'realtime.response', status: 'completed', output: announce.includes('response_done') ? [done] : [] },
    });
    return this;
  }

  /** The agent's audio finished playing (after an `agentSays(…, { playback: true })`). */
  playbackStopped(): this {
    this.send({ type: 'output_audio_buffer.stopped', response_id: this.playingResponseId ?? null });
    this.playingResponseId = undefined;
    return this;
  }

  /** Key presses on the caller's phone (SIP only). */
  dtmf(keys: string): this {
    for (const key of keys) {
      this.send({ type: 'input_audio_buffer.dtmf_event_received', event: key, received_at: Math.floor(Date.now() / 1000) });
    }
    return this;
  }

  /** A recoverable `error` event: the socket stays open. */
  error(code = 'invalid_event', message = 'The event was invalid.', eventId?: string): this {
    return this.send({ type: 'error', error: { type: 'invalid_request_error', code, message, param: null, event_id: eventId ?? null } });
  }

  send(event: ServerEvent): this {
    this.steps.push({ kind: 'send', event });
    return this;
  }

  /** A frame sent verbatim (not JSON, or odd shapes). */
  raw(frame: string): this {
    this.steps.push({ kind: 'raw', frame });
    return this;
  }

  /** A binary frame of this many bytes (the service sends none that is known; a real server might). */
  binary(bytes: number): this {
    this.steps.push({ kind: 'binary', bytes });
    return this;
  }

  pause(ms: number): this {
    this.steps.push({ kind: 'pause', ms });
    return this;
  }

  /**
   * Waits until the bridge has sent a client event of this type (counting from the start of the call); with
   * `count`, until it has sent that many of them.
   */
  expect(type: string, timeoutMs = 5000, count = 1): this {
    this.steps.push({ kind: 'expect', type, timeoutMs, ...(count > 1 ? { count } : {}) });
    return this;
  }

  /** Anything still deferred (a late transcription with no later agent turn) is sent now. */
  flushDeferred(): this {
    const pending = this.deferred;
    this.deferred = [];
    pending.forEach((e) => this.send(e));
    return this;
  }

  /** The caller hangs up: the sideband closes, as it does on the real service (or as `close` says). */
  hangup(close: HangupClose = 'normal'): this {
    this.flushDeferred();
    this.steps.push(close === 'normal' ? { kind: 'hangup' } : { kind: 'hangup', close });
    return this;
  }
}

export function script(): ConversationScript {
  return new ConversationScript();
}

/** Splits text into transcript deltas the way the service streams them: words with their leading space. */
function words(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}
