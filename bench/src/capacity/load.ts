/**
 * The load side of the capacity benchmark: the conversation every call plays, placing calls on the bridge at a
 * steady rate, timing the bridge's answers and counting what failed; the stand-in order API behind `lookup_order`;
 * and how many calls this machine lets one process place.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { script, type ConversationScript, type EmulatedCall, type OpenAIEmulator, type ScriptStep, type ServerEvent } from '#emulator';
import { withTimeoutOr } from '#resilience';

export const ORDER_API_TOKEN = 'order-api-bench-token';
/** A measured event not answered by the bridge within this long counts as unanswered (a failure). */
export const ANSWER_TIMEOUT_MS = 5000;
/** A call whose sideband is not open this long after its webhook was answered has failed. */
export const CONNECT_TIMEOUT_MS = 20_000;
/** Sockets this process keeps besides the calls' (HTTP pools, listeners, files). */
const FD_RESERVE = 500;

// ---- the conversation ---------------------------------------------------------------------------------------

const CALLER_OPENING = [
  'Hi, I am calling about my order, it was supposed to arrive on Monday and it is still not here.',
  'Hello, I ordered a pair of shoes last week and I would like to know where the parcel is now.',
  'Good morning, my delivery has not shown up yet and the tracking page does not say anything useful.',
];
const AGENT_ASKS =
  'I am sorry to hear that, I can look into it for you right away. Could you tell me the order number, please? ' +
  'You will find it in your confirmation email.';
const AGENT_ANSWERS = (order: string) =>
  `Thanks for waiting. Order ${order} left our warehouse yesterday with UPS and should arrive within two days. ` +
  'Is there anything else I can help you with today?';

/**
 * One pass of the conversation, appended to `s` (the builder keeps item ids unique across passes). About 18 s of
 * talk; the pauses are the caller and agent speaking, the bursts are the events the service sends meanwhile.
 */
function conversationPass(s: ConversationScript, tag: string, pass: number): ConversationScript {
  const order = String(4000 + (pass % 5000));
  return s
    .callerSays(CALLER_OPENING[pass % CALLER_OPENING.length])
    .pause(1200)
    .agentSays(AGENT_ASKS, { playback: true })
    .pause(4000)
    .playbackStopped()
    .pause(2500)
    .callerSays(`Sure, it is ${order.split('').join(' ')}.`, { transcription: pass % 3 === 0 ? 'late' : 'inline' })
    .pause(800)
    .toolCall('lookup_order', { order_number: order }, { callId: `call_${tag}_${pass}` })
    .pause(600)
    .agentSays(AGENT_ANSWERS(order), { playback: true, interruptedAfterWords: pass % 4 === 3 ? 12 : undefined })
    .pause(5000)
    .playbackStopped()
    .pause(1500)
    .dtmf('12#')
    .pause(2500);
}

/** Events and seconds of one pass: the per-call event rate the report states. */
export function passShape(): { events: number; seconds: number } {
  const steps = conversationPass(script(), 'shape', 1).flushDeferred().steps;
  return {
    events: steps.filter((s) => s.kind === 'send').length,
    seconds: steps.reduce((ms, s) => ms + (s.kind === 'pause' ? s.ms : 0), 0) / 1000,
  };
}

// ---- driving the calls ----------------------------------------------------------------------------------------

/** The answers timed during one measurement window, by what they answer. */
export interface Window {
  tool: number[];
  dtmf: number[];
}

/** What the load side sees: events sent, answers timed, failures. */
export class Load {
  sent = 0;
  unanswered = 0;
  mismatched = 0;
  webhookFailures = 0;
  connectFailures = 0;
  dropped = 0;
  stopping = false;
  window?: Window;
  /** Calls hung up on purpose (the warm-up): their end is not a drop. */
  readonly hungUp = new Set<EmulatedCall>();

  get failedCalls(): number {
    return this.webhookFailures + this.connectFailures + this.dropped;
  }

  /** Times the bridge's answer (`conversation.item.create`) to the event about to be sent on `call`. */
  expectAnswer(call: EmulatedCall, kind: keyof Window, matches: (event: ServerEvent) => boolean): void {
    const sentAt = performance.now();
    const window = this.window;
    call.waitForClientEvent('conversation.item.create', ANSWER_TIMEOUT_MS, true).then(
      (event) => {
        const ms = performance.now() - sentAt;
        if (!matches(event)) this.mismatched++;
        else if (window && window === this.window) window[kind].push(ms);
      },
      () => {
        if (!this.stopping && call.state !== 'ended') this.unanswered++;
      },
    );
  }

  /**
   * The steps a call plays: it joins the conversation at a random point of the first pass (the turns before that
   * point are skipped, the pause it lands in is shortened), then passes follow for as long as the call lasts.
   */
  *conversation(tag: string, call: () => EmulatedCall, passMs: number): Generator<ScriptStep> {
    const s = script();
    let skipMs = Math.random() * passMs;
    for (let pass = 0; ; pass++) {
      conversationPass(s, tag, pass);
      // Taken out of the builder as they are played, so an endless call holds one pass at a time.
      for (const step of s.steps.splice(0)) {
        if (skipMs > 0) {
          if (step.kind === 'pause') {
            if (step.ms > skipMs) yield { kind: 'pause', ms: step.ms - skipMs };
            skipMs -= step.ms;
          }
          continue;
        }
        if (step.kind === 'send') {
          this.sent++;
          const type = step.event.type;
          if (type === 'response.function_call_arguments.done') {
            const toolCallId = step.event.call_id;
            this.expectAnswer(call(), 'tool', (e) => (e.item as { call_id?: unknown } | undefined)?.call_id === toolCallId);
          } else if (type === 'input_audio_buffer.dtmf_event_received' && step.event.event === '#') {
            this.expectAnswer(call(), 'dtmf', (e) => (e.item as { type?: unknown } | undefined)?.type === 'message');
          }
        }
        yield step;
      }
    }
  }

  /** Ends `call` on purpose: its end does not count as a dropped call. */
  hangUp(call: EmulatedCall): void {
    this.hungUp.add(call);
    call.hangUp();
  }
}

/** Where and how fast calls are placed. */
export interface CallPlacement {
  load: Load;
  emulator: OpenAIEmulator;
  /** The bridge's OpenAI webhook. */
  webhookUrl: string;
  /** New calls per second. */
  rampRate: number;
  /** The length of one pass of the conversation (ms): where a new call joins it is chosen within it. */
  passMs: number;
}

/** Places `count` calls at `rampRate` per second; resolves once every sideband is open (or has failed). */
export async function addCalls(count: number, into: EmulatedCall[], { load, emulator, webhookUrl, rampRate, passMs }: CallPlacement): Promise<void> {
  const interval = 1000 / rampRate;
  const begin = performance.now();
  const inFlight = new Set<Promise<void>>();
  const connected: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const wait = begin + i * interval - performance.now();
    if (wait > 1) await sleep(wait);
    let call!: EmulatedCall;
    const tag = Math.random().toString(36).slice(2, 10);
    call = emulator.createCall({ script: { steps: load.conversation(tag, () => call, passMs) } });
    into.push(call);
    const delivery = emulator
      .deliver(webhookUrl, JSON.stringify(emulator.incomingEvent(call)))
      .then(
        (d) => d.status === 200,
        () => false,
      )
      .then((ok) => {
        if (!ok) {
          load.webhookFailures++;
          return;
        }
        connected.push(
          withTimeoutOr(call.connected.then(() => true), CONNECT_TIMEOUT_MS, false).then((open) => {
            if (!open) load.connectFailures++;
            else
              void call.ended.then(() => {
                if (!load.stopping && !load.hungUp.has(call)) load.dropped++;
              });
          }),
        );
      });
    const tracked = delivery.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    if (inFlight.size >= 64) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await Promise.all(connected);
}

// ---- the machine and the stand-ins ------------------------------------------------------------------------------

/** How many calls the file-descriptor limit and the ephemeral port range allow (one socket per call each side). */
export function callLimit(): { calls: number; why: string } {
  let fds = Infinity;
  let ports = Infinity;
  try {
    fds = Number(/Max open files\s+(\d+)/.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? Infinity);
  } catch {
    // not Linux: no limit known
  }
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    ports = high - low + 1;
  } catch {
    // not Linux
  }
  const calls = Math.min(fds, ports) - FD_RESERVE;
  return { calls, why: fds <= ports ? `\`ulimit -n\` ${fds}` : `ephemeral ports ${ports}` };
}

/** A stand-in order API for `lookup_order`: every order shipped. */
export async function startOrderApi(): Promise<{ url: string; server: Server; requests: () => number }> {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    const number = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
    const ok = req.headers.authorization === `Bearer ${ORDER_API_TOKEN}`;
    const body = ok ? JSON.stringify({ number, status: 'shipped', carrier: 'UPS', estimated_delivery: '2026-01-19', items: [{}, {}] }) : '{"error":"unauthorized"}';
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`, server, requests: () => requests };
}
