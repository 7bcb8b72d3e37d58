import type { RealtimeServerEvent } from '#events';
import { DeadlineQueue } from './deadline-queue.js';
import { PendingList } from './pending-list.js';
import { INAUDIBLE, type Speaker, type TranscriptLine } from './transcript-line.js';

export interface TranscriptAssemblerOptions {
  callId: string;
  /** Called synchronously, once per line, in `seq` order. Errors it throws are swallowed (see `handle`). */
  onLine: (line: TranscriptLine) => void;
  /** Bounded wait (ms) for a caller transcription, and for an agent turn whose transcript is done but not its item. */
  placeholderAfterMs: number;
  /** Default true. False: caller turns produce no lines and never block agent lines. */
  callerTranscription?: boolean;
  /** Millisecond clock, `Date.now` by default (tests inject one). Assumed not to run backwards. */
  now?: () => number;
  /**
   * Lines another replica released before this one took the call over (from storage, in order): they are part of
   * `lines` and the next line released is `priorLines.length`. Their items are passed: nothing about them is
   * released again.
   */
  priorLines?: readonly TranscriptLine[];
}

type Kind = 0 | 1 | 2;
/** A caller audio turn: a line once its transcription completes, fails or times out. */
const CALLER: Kind = 0;
/** An assistant message: a line once its item or response is done. */
const AGENT: Kind = 1;
/** Any other item (tool calls and outputs, text we injected, system messages): ordered, never a line, never blocks. */
const SILENT: Kind = 2;

/** A conversation item not yet passed by the release frontier: a node of the pending list. */
class Item {
  prev: Item | null = null;
  next: Item | null = null;
  /** Position is a guess (speech_started reservation, or only seen on response/transcription events). */
  provisional = false;
  /** Caller slot reserved by speech_started only: it expires silently at its deadline. */
  reserved = false;
  /** Ready to be released (its line, if any, will not change any more except `interrupted`). */
  final = false;
  placeholder = false;
  interrupted = false;
  /** Accumulated deltas. */
  deltas = '';
  /** Final text from `…completed` / `….done`, or the placeholder text. */
  finalText: string | undefined = undefined;
  /** Agent: transcript/text found in the item's own content (output_item.done, conversation.item.done). */
  contentText: string | undefined = undefined;
  /** Pending deadline (ms), NaN when none: kept by the assembler's DeadlineQueue. */
  deadline = NaN;
  responseId: string | undefined = undefined;

  constructor(
    readonly id: string,
    public kind: Kind,
  ) {}
}

/** Marks an item id the frontier has passed (emitted or skipped): later events about it are ignored. */
const PASSED = new Item('', SILENT);

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmptyString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/**
 * Turns one call's sideband server events into final transcript lines, in conversation order.
 *
 * Pure and synchronous. The conversation is kept as a doubly linked list of the items not yet released
 * (`PendingList`) plus a Map from item id to node, so every event costs O(1) (placing an item after
 * `previous_item_id` included). Lines are released from the head of that list as long as the head is final: a
 * caller transcription that completes after the agent's reply therefore still comes out before the reply.
 * Deadlines (bounded waits) sit in a `DeadlineQueue`, a FIFO with lazy deletion: every deadline is
 * `now + placeholderAfterMs`, so they are queued in time order, as that queue requires.
 */
export class TranscriptAssembler {
  private readonly callId: string;
  private readonly onLine: (line: TranscriptLine) => void;
  private readonly waitMs: number;
  private readonly transcribeCaller: boolean;
  private readonly now: () => number;

  private readonly emitted: TranscriptLine[] = [];
  /** Pending items, and PASSED markers for items already released (needed to place later items after them). */
  private readonly items = new Map<string, Item>();
  /** Pending agent items by the response that produces them (response.done may not list them). */
  private readonly byResponse = new Map<string, Item[]>();
  /** Items not yet released, in conversation order. */
  private readonly pending = new PendingList<Item>();
  private passedCount = 0;

  private readonly deadlines = new DeadlineQueue<Item>();

  private releasing = false;
  private finished = false;

  constructor(options: TranscriptAssemblerOptions) {
    this.callId = options.callId;
    this.onLine = options.onLine;
    const wait = Number(options.placeholderAfterMs);
    this.waitMs = wait >= 0 ? wait : 0;
    this.transcribeCaller = options.callerTranscription !== false;
    this.now = options.now ?? Date.now;
    for (const line of options.priorLines ?? []) {
      this.emitted.push(line);
      if (line.itemId) this.items.set(line.itemId, PASSED);
      this.passedCount++;
    }
  }

  get lines(): readonly TranscriptLine[] {
    return this.emitted;
  }

  /** Earliest pending deadline (ms) or undefined, so a scheduler can sleep until then. */
  get nextDeadline(): number | undefined {
    if (this.finished) return undefined;
    return this.deadlines.next;
  }

  /** Never throws, whatever the event's shape (nor when `onLine` throws: such errors are swallowed). */
  handle(event: RealtimeServerEvent): void {
    if (this.finished) return;
    try {
      this.dispatch(event);
    } catch {
      // A hostile shape (a throwing getter, say) or a throwing clock: the event is dropped, the call goes on.
    }
  }

  /** Resolves overdue caller turns as placeholders and emits what became releasable. Called periodically. */
  tick(): void {
    if (this.finished) return;
    try {
      const now = this.now();
      let due: Item | undefined;
      while ((due = this.deadlines.takeDue(now)) !== undefined) this.expire(due);
      this.release();
    } catch {
      // see handle()
    }
  }

  /** Call end: resolve everything still pending (placeholders / partial agent text), emit in order, return all lines. */
  finish(): TranscriptLine[] {
    if (!this.finished) {
      this.finished = true;
      try {
        for (let item = this.pending.head; item !== null; ) {
          const next = item.next;
          if (!item.final) {
            if (item.kind === CALLER) {
              if (item.reserved) this.remove(item);
              else this.finishAsPlaceholder(item);
            } else if (item.kind === AGENT) {
              this.finishAgent(item, false);
            }
          }
          item = next;
        }
        this.release();
      } catch {
        // see handle()
      }
      if (!this.releasing) {
        // Nothing more will happen on this call: keep only the lines. (When finish() is called from onLine, the
        // release loop under way still needs the list; it drains it, everything being final now.)
        this.items.clear();
        this.byResponse.clear();
        this.deadlines.clear();
        this.pending.clear();
      }
    }
    return this.emitted.slice();
  }

  // ---- events ------------------------------------------------------------------------------------------------

  private dispatch(event: unknown): void {
    if (typeof event !== 'object' || event === null) return;
    const e = event as Fields;
    switch (e.type) {
      case 'response.output_audio_transcript.delta':
      case 'response.output_text.delta':
        return this.onAgentDelta(e);
      case 'conversation.item.input_audio_transcription.delta':
        return this.onCallerDelta(e);
      case 'input_audio_buffer.speech_started':
        return this.onSpeechStarted(e);
      case 'input_audio_buffer.committed':
        return this.onCommitted(e);
      case 'conversation.item.added':
      case 'conversation.item.done':
        return this.onConversationItem(e);
      case 'conversation.item.input_audio_transcription.completed':
        return this.onCallerCompleted(e);
      case 'conversation.item.input_audio_transcription.failed':
        return this.onCallerFailed(e);
      case 'response.output_item.added':
        return this.onOutputItemAdded(e);
      case 'response.output_audio_transcript.done':
        return this.onAgentTextDone(e, e.transcript);
      case 'response.output_text.done':
        return this.onAgentTextDone(e, e.text);
      case 'response.output_item.done':
        return this.onOutputItemDone(e);
      case 'response.done':
        return this.onResponseDone(e);
      default:
        return;
    }
  }

  private onSpeechStarted(e: Fields): void {
    if (!this.transcribeCaller) return;
    const id = nonEmptyString(e.item_id);
    if (id === undefined || this.items.has(id)) return; // seen before: keeps its place
    const item = new Item(id, CALLER);
    item.provisional = true;
    item.reserved = true;
    this.items.set(id, item);
    this.pending.append(item);
    this.setDeadline(item);
  }

  private onCommitted(e: Fields): void {
    const id = nonEmptyString(e.item_id);
    if (id === undefined) return;
    let item = this.items.get(id);
    if (item === PASSED || item?.kind === AGENT) return;
    if (item === undefined) {
      item = new Item(id, this.transcribeCaller ? CALLER : SILENT);
      this.items.set(id, item);
      this.placeNew(item, e.previous_item_id);
    } else if (item.provisional) {
      this.reposition(item, e.previous_item_id);
    }
    if (item.kind === CALLER) this.confirmCaller(item);
    this.release();
  }

  private onConversationItem(e: Fields): void {
    const raw = e.item;
    if (!isObject(raw)) return;
    const id = nonEmptyString(raw.id);
    if (id === undefined) return;
    let item = this.items.get(id);
    if (item === PASSED) return;
    const kind = this.kindOf(raw);
    if (item === undefined) {
      item = new Item(id, kind ?? SILENT);
      this.items.set(id, item);
      this.placeNew(item, e.previous_item_id);
    } else {
      if (item.provisional) this.reposition(item, e.previous_item_id);
      // Our own typed input (e.g. DTMF notes) that somehow got a caller slot: it is not the caller speaking.
      if (item.kind === CALLER && kind === SILENT && !item.final) {
        item.kind = SILENT;
        item.reserved = false;
        this.deadlines.cancel(item);
      }
    }
    if (item.kind === CALLER) this.confirmCaller(item);
    else if (item.kind === AGENT) this.takeContentText(item, raw);
    this.release();
  }

  private onCallerDelta(e: Fields): void {
    const delta = e.delta;
    if (typeof delta !== 'string') return;
    const item = this.callerItem(e.item_id);
    if (item !== undefined && !item.final) item.deltas += delta;
  }

  private onCallerCompleted(e: Fields): void {
    const transcript = e.transcript;
    if (typeof transcript !== 'string') return;
    const item = this.callerItem(e.item_id);
    if (item === undefined || item.final) return;
    item.finalText = transcript;
    this.makeFinal(item);
    this.release();
  }

  private onCallerFailed(e: Fields): void {
    const item = this.callerItem(e.item_id);
    if (item === undefined || item.final) return;
    item.finalText = INAUDIBLE;
    item.placeholder = true;
    this.makeFinal(item);
    this.release();
  }

  private onOutputItemAdded(e: Fields): void {
    const raw = e.item;
    if (!isObject(raw)) return;
    const id = nonEmptyString(raw.id);
    if (id === undefined) return;
    let item = this.items.get(id);
    if (item === PASSED) return;
    if (item === undefined) {
      // conversation.item.added normally follows with the true position; if it never does, this is it.
      item = new Item(id, this.kindOf(raw) ?? SILENT);
      item.provisional = true;
      this.items.set(id, item);
      this.pending.append(item);
    }
    if (item.kind === AGENT) this.noteResponse(item, e.response_id);
  }

  private onAgentDelta(e: Fields): void {
    const delta = e.delta;
    if (typeof delta !== 'string') return;
    const item = this.agentItem(e.item_id, e.response_id);
    if (item !== undefined && !item.final) item.deltas += delta;
  }

  private onAgentTextDone(e: Fields, text: unknown): void {
    if (typeof text !== 'string') return;
    const item = this.agentItem(e.item_id, e.response_id);
    if (item === undefined || item.final) return;
    item.finalText = text;
    // Released when its item or response is done (which says whether it was interrupted), or after a bounded wait.
    if (!this.deadlines.isScheduled(item)) this.setDeadline(item);
  }

  private onOutputItemDone(e: Fields): void {
    const raw = e.item;
    if (!isObject(raw)) return;
    const item = this.doneAgentItem(raw);
    if (item === undefined) return;
    this.noteResponse(item, e.response_id);
    this.finishAgent(item, raw.status === 'incomplete');
    this.release();
  }

  private onResponseDone(e: Fields): void {
    const response = e.response;
    if (!isObject(response)) return;
    const cancelled = response.status === 'cancelled';
    const output = response.output;
    if (Array.isArray(output)) {
      for (const raw of output) {
        if (!isObject(raw)) continue;
        const item = this.doneAgentItem(raw);
        if (item !== undefined) this.finishAgent(item, cancelled || raw.status === 'incomplete');
      }
    }
    const responseId = nonEmptyString(response.id);
    if (responseId !== undefined) {
      const produced = this.byResponse.get(responseId);
      if (produced !== undefined) {
        this.byResponse.delete(responseId);
        for (const item of produced) {
          item.responseId = undefined;
          this.finishAgent(item, cancelled);
        }
      }
    }
    this.release();
  }

  // ---- item bookkeeping ----------------------------------------------------------------------------------------

  /** What an item is, from its own description; undefined when it does not say. */
  private kindOf(raw: Fields): Kind | undefined {
    if (raw.type !== 'message') return raw.type === undefined ? undefined : SILENT;
    if (raw.role === 'assistant') return AGENT;
    if (raw.role !== 'user') return SILENT;
    const content = raw.content;
    let audio = false;
    let text = false;
    if (Array.isArray(content)) {
      for (const part of content) {
        if (!isObject(part)) continue;
        if (part.type === 'input_audio') audio = true;
        else if (part.type === 'input_text') text = true;
      }
    }
    if (audio) return this.transcribeCaller ? CALLER : SILENT;
    return text ? SILENT : undefined;
  }

  /** The pending caller item a transcription event is about; created (appended) if the item was never announced. */
  private callerItem(rawId: unknown): Item | undefined {
    if (!this.transcribeCaller) return undefined;
    const id = nonEmptyString(rawId);
    if (id === undefined) return undefined;
    let item = this.items.get(id);
    if (item === PASSED) return undefined;
    if (item === undefined) {
      item = new Item(id, CALLER);
      item.provisional = true;
      this.items.set(id, item);
      this.pending.append(item);
      this.setDeadline(item);
      return item;
    }
    if (item.kind !== CALLER) return undefined;
    if (item.reserved) this.confirmCaller(item); // a transcription means the audio was committed
    return item;
  }

  /** The pending agent item a transcript event is about; created (appended) if the item was never announced. */
  private agentItem(rawId: unknown, responseId: unknown): Item | undefined {
    const id = nonEmptyString(rawId);
    if (id === undefined) return undefined;
    let item = this.items.get(id);
    if (item === PASSED) return undefined;
    if (item === undefined) {
      item = new Item(id, AGENT);
      item.provisional = true;
      this.items.set(id, item);
      this.pending.append(item);
    } else if (item.kind !== AGENT) {
      return undefined;
    }
    if (item.responseId === undefined) this.noteResponse(item, responseId);
    return item;
  }

  /** The agent item a done item describes (appended if never announced); undefined for any other kind of item. */
  private doneAgentItem(raw: Fields): Item | undefined {
    const id = nonEmptyString(raw.id);
    if (id === undefined) return undefined;
    let item = this.items.get(id);
    if (item === PASSED) return undefined;
    if (item === undefined) {
      const kind = this.kindOf(raw);
      if (kind !== AGENT) return undefined;
      item = new Item(id, AGENT);
      item.provisional = true;
      this.items.set(id, item);
      this.pending.append(item);
    } else if (item.kind !== AGENT) {
      return undefined;
    }
    this.takeContentText(item, raw);
    return item;
  }

  private noteResponse(item: Item, rawResponseId: unknown): void {
    if (item.responseId !== undefined) return;
    const responseId = nonEmptyString(rawResponseId);
    if (responseId === undefined) return;
    item.responseId = responseId;
    const produced = this.byResponse.get(responseId);
    if (produced === undefined) this.byResponse.set(responseId, [item]);
    else produced.push(item);
  }

  /** Agent text carried by the item itself (`content[].transcript` / `content[].text`), a fallback for `.done`. */
  private takeContentText(item: Item, raw: Fields): void {
    const content = raw.content;
    if (!Array.isArray(content)) return;
    let text: string | undefined;
    for (const part of content) {
      if (!isObject(part)) continue;
      const value = typeof part.transcript === 'string' ? part.transcript : part.text;
      if (typeof value === 'string') text = text === undefined ? value : text + value;
    }
    if (text !== undefined && text.trim() !== '') item.contentText = text;
  }

  /** A caller turn that is really in the conversation (committed / added): it now waits a bounded time for text. */
  private confirmCaller(item: Item): void {
    if (item.reserved) {
      item.reserved = false;
      this.deadlines.cancel(item); // the reservation's own deadline no longer applies
    }
    if (!item.final && !this.deadlines.isScheduled(item)) this.setDeadline(item);
  }

  private finishAgent(item: Item, interrupted: boolean): void {
    if (interrupted) item.interrupted = true; // may still be learnt after the item was done, until released
    if (!item.final) this.makeFinal(item);
  }

  private finishAsPlaceholder(item: Item): void {
    item.finalText = item.deltas.trim() !== '' ? item.deltas : INAUDIBLE;
    item.placeholder = true;
    this.makeFinal(item);
  }

  private makeFinal(item: Item): void {
    item.final = true;
    this.deadlines.cancel(item);
  }

  /** Its deadline came (the queue has taken it away already). */
  private expire(item: Item): void {
    if (item.kind === CALLER) {
      if (item.reserved) this.remove(item); // speech_started never followed by a commit: no turn after all
      else this.finishAsPlaceholder(item);
    } else if (item.kind === AGENT) {
      this.finishAgent(item, false); // its transcript was done long ago; its item/response never said more
    }
  }

  // ---- placement (in the pending list) ---------------------------------------------------------------------------

  /** Places a new item after `previous_item_id`. */
  private placeNew(item: Item, prev: unknown): void {
    const { pending } = this;
    if (typeof prev === 'string' && prev !== item.id) {
      const target = this.items.get(prev);
      if (target === PASSED) pending.prepend(item); // right after the released prefix: as close as it can get
      else if (target !== undefined) pending.insertAfter(target, item);
      else pending.append(item); // unknown predecessor
      return;
    }
    if (prev === null && this.passedCount === 0) pending.prepend(item); // start of the conversation
    else pending.append(item);
    if (prev !== null && typeof prev !== 'string') item.provisional = true; // no position given: a later event may
  }

  /** Moves a provisionally placed item to the position an authoritative event gives it. */
  private reposition(item: Item, prev: unknown): void {
    const { pending } = this;
    if (typeof prev === 'string' && prev !== item.id) {
      const target = this.items.get(prev);
      if (target === PASSED) {
        if (pending.head !== item) {
          pending.unlink(item);
          pending.prepend(item);
        }
      } else if (target !== undefined && item.prev !== target) {
        pending.unlink(item);
        pending.insertAfter(target, item);
      } // unknown predecessor: keeps its place
      item.provisional = false;
    } else if (prev === null) {
      if (this.passedCount === 0 && pending.head !== item) {
        pending.unlink(item);
        pending.prepend(item);
      }
      item.provisional = false;
    }
  }

  /** Drops an item that turned out not to be a turn (an expired reservation): as if never seen. */
  private remove(item: Item): void {
    this.pending.unlink(item);
    this.items.delete(item.id);
    this.deadlines.cancel(item);
  }

  // ---- release ---------------------------------------------------------------------------------------------------

  /** Emits from the head of the pending list while the head is final (or never a line). */
  private release(): void {
    if (this.releasing) return; // onLine re-entered us: the outer loop carries on
    this.releasing = true;
    try {
      const { pending } = this;
      for (let item = pending.head; item !== null && (item.final || item.kind === SILENT); item = pending.head) {
        this.pass(item);
      }
    } finally {
      this.releasing = false;
    }
  }

  private pass(item: Item): void {
    this.pending.unlink(item);
    this.items.set(item.id, PASSED);
    this.passedCount++;
    if (item.responseId !== undefined) this.forgetResponse(item);
    this.deadlines.cancel(item);
    const line = item.kind === SILENT ? undefined : this.lineOf(item);
    // Per-item buffers go with the node; only the line (and the id marker) stay.
    item.deltas = '';
    item.finalText = item.contentText = undefined;
    if (line === undefined) return;
    this.emitted.push(line);
    try {
      this.onLine(line);
    } catch {
      // The line is emitted (and kept in `lines`); a failing listener must not stall or reorder the transcript.
    }
  }

  private lineOf(item: Item): TranscriptLine | undefined {
    const text = (item.finalText ?? item.contentText ?? item.deltas).trim();
    if (text === '') return undefined;
    const speaker: Speaker = item.kind === AGENT ? 'agent' : 'caller';
    return {
      callId: this.callId,
      seq: this.emitted.length,
      speaker,
      text,
      itemId: item.id,
      interrupted: item.kind === AGENT && item.interrupted,
      placeholder: item.placeholder,
      at: new Date(this.now()),
    };
  }

  private forgetResponse(item: Item): void {
    const responseId = item.responseId!;
    item.responseId = undefined;
    const produced = this.byResponse.get(responseId);
    if (produced === undefined) return;
    const index = produced.indexOf(item);
    if (index >= 0) produced.splice(index, 1);
    if (produced.length === 0) this.byResponse.delete(responseId);
  }

  // ---- deadlines -------------------------------------------------------------------------------------------------

  /** The bounded wait: every deadline is `now + placeholderAfterMs`, so the queue gets them in time order. */
  private setDeadline(item: Item): void {
    this.deadlines.schedule(item, this.now() + this.waitMs);
  }
}
