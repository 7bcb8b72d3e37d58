/**
 * Capacity: the most concurrent calls ONE bridge process on ONE core holds with realistic event traffic while its
 * event handling stays under p99 10 ms, and what each call costs in memory.
 *
 * The bridge is the built app in its own process, pinned to CPU 0 (`taskset -c 0`) at normal priority (on a shared
 * machine, BENCH_CAPACITY_PRIORITY=realtime schedules its event-loop thread SCHED_RR where permitted), with production
 * settings: SQLite in a temporary DATA_DIR, production logs (written to a pipe and dropped), the `lookup_order` tool
 * against a local order API, and live Discord notifications through the durable outbox into a FakeDiscord without a
 * rate limit (standing for each team's own webhook; one real webhook would only be a queue, see the Discord
 * benchmark). This process is everything else — the OpenAI emulator with every call's sideband, the order API,
 * FakeDiscord — pinned to the other CPUs. A probe preloaded into the bridge (bridge-probe.ts) reports its event-loop
 * delay, CPU time, scheduling delay, GC pauses and memory over IPC.
 *
 * Every call plays an endless conversation built with the emulator's script builder (caller turns with transcription
 * deltas, some transcribed late; agent turns streaming transcript deltas with playback, some interrupted; a
 * `lookup_order` tool call; DTMF), joined at a random point so that calls are spread over it. Concurrency rises in
 * steps; at each step, after a settling time, one window of BENCH_SECONDS is measured. A step passes when the
 * bridge's event-loop delay p99 is at most 10 ms, no call has failed and every measured event was answered.
 *
 * Tuning: BENCH_SECONDS (window per step, default 10), BENCH_CAPACITY_STEPS (comma-separated call counts),
 * BENCH_CAPACITY_RAMP (new calls per second, default 200), BENCH_CAPACITY_TRIES (windows per step when other
 * processes disturbed one, default 2), BENCH_CAPACITY_PRIORITY (`realtime`, `nice` or `normal`),
 * BENCH_CAPACITY_DISCORD=0 (no notifications), BRIDGE_NODE_OPTIONS (e.g. GC flags).
 * Diagnosis: BENCH_CAPACITY_PROFILE=<dir> (a CPU and an allocation profile of every window, heap snapshots; with
 * BENCH_CAPACITY_PRIORITY=normal, or the profiler's own thread hardly gets to sample),
 * BENCH_PROBE_SQL=1 (time in SQLite by statement), BENCH_CAPACITY_BRIDGE_LOG=<file> (the bridge's output).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { ProbeCommand, ProbeReply, ProbeSample } from './bridge-probe.js';
import { pinning } from './pinning.js';
import { processMemory } from './process-memory.js';
import type { BenchResult } from './report.js';
import { FakeDiscord, OpenAIEmulator, newWebhookSecret, script, type ConversationScript, type EmulatedCall, type ScriptStep, type ServerEvent } from '#emulator';

const MAIN = fileURLToPath(new URL('../../apps/bridge/src/main.js', import.meta.url));
const PROBE = new URL('./bridge-probe.js', import.meta.url).href;

const API_KEY = 'sk-bench-capacity';
const ORDER_API_TOKEN = 'order-api-bench-token';
const DEFAULT_STEPS = [250, 500, 1000, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 8000];
const P99_LIMIT_MS = 10;
const TARGET_CALLS = 2000;
const TARGET_KB_PER_CALL = 150;
/** A measured event not answered by the bridge within this long counts as unanswered (a failure). */
const ANSWER_TIMEOUT_MS = 5000;
/** A call whose sideband is not open this long after its webhook was answered has failed. */
const CONNECT_TIMEOUT_MS = 20_000;
const SETTLE_MS = 2000;
/** A failed window in which the bridge waited for its CPU more than this share of the time is measured again. */
const NOISY_WAIT = 0.05;
const WARM_UP_CALLS = 100;
const WARM_UP_MS = 8000;
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
function passShape(): { events: number; seconds: number } {
  const steps = conversationPass(script(), 'shape', 1).flushDeferred().steps;
  return {
    events: steps.filter((s) => s.kind === 'send').length,
    seconds: steps.reduce((ms, s) => ms + (s.kind === 'pause' ? s.ms : 0), 0) / 1000,
  };
}

// ---- measurement ----------------------------------------------------------------------------------------------

const quantile = (sorted: number[], q: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]);
const sortNumbers = (values: number[]) => [...values].sort((a, b) => a - b);

interface Window {
  tool: number[];
  dtmf: number[];
}

/** What the load side sees: events sent, answers timed, failures. */
class Load {
  sent = 0;
  unanswered = 0;
  mismatched = 0;
  webhookFailures = 0;
  connectFailures = 0;
  dropped = 0;
  stopping = false;
  window?: Window;

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
}

// ---- the bridge process ----------------------------------------------------------------------------------------

/** The built bridge in its own process, with the probe, and a way to ask the probe. */
class BridgeProcess {
  private nextId = 0;
  private readonly pending = new Map<number, (reply: ProbeReply) => void>();
  readonly errorLines: string[] = [];
  errorCount = 0;
  readonly url: Promise<string>;

  private constructor(
    readonly child: ChildProcess,
    logFile?: string,
  ) {
    if (logFile) {
      const log = createWriteStream(logFile);
      child.stdout!.pipe(log);
      child.stderr!.pipe(log);
    }
    child.on('message', (reply: ProbeReply) => {
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
    // Production logs are written (and cost what they cost); errors are counted and the last few kept.
    let out = '';
    this.url = new Promise((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        out += chunk.toString();
        const match = /listening on (http:\/\/[^\s"]+)/.exec(out);
        if (!match) return;
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolve(match[1]);
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code, signal) => reject(new Error(`the bridge exited (${code ?? signal}) before listening:\n${out.slice(-2000)}`)));
    });
    child.stderr!.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        this.errorCount++;
        this.errorLines.push(line.slice(0, 300));
        if (this.errorLines.length > 5) this.errorLines.shift();
      }
    });
  }

  static start(env: Record<string, string>, cpu: string | undefined, cwd: string, logFile?: string): BridgeProcess {
    const nodeArgs = ['--expose-gc', '--import', PROBE, ...(process.env.BRIDGE_NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean), MAIN];
    const [command, args] = cpu !== undefined ? ['taskset', ['-c', cpu, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    process.once('exit', () => child.kill('SIGKILL')); // never leave the bridge behind, even when the bench fails
    return new BridgeProcess(child, logFile);
  }

  /**
   * Raises the priority of the bridge's event-loop thread (its helper threads keep theirs) so that other processes on
   * its core do not take it away: the benchmark is about what one core does, and the machine may be shared. `realtime`
   * (SCHED_RR, with `chrt`; the kernel still leaves 5 % of the core to others) gives it the core whenever it wants it;
   * `nice` only a larger share. Falls back when not permitted; returns what it got.
   */
  prioritise(wanted: 'realtime' | 'nice' | 'normal'): 'realtime' | 'nice' | 'normal' {
    const pid = this.child.pid;
    if (pid === undefined) return 'normal';
    if (wanted === 'realtime') {
      try {
        execFileSync('chrt', ['-r', '-p', '10', String(pid)], { stdio: 'ignore' });
        return 'realtime';
      } catch {
        // no chrt, or not permitted: try nice
      }
    }
    if (wanted !== 'normal') {
      try {
        setPriority(pid, -10);
        return 'nice';
      } catch {
        // not permitted
      }
    }
    return 'normal';
  }

  ask<C extends ProbeCommand['cmd']>(cmd: C, extra: Omit<Extract<ProbeCommand, { cmd: C }>, 'id' | 'cmd'> = {} as never, timeoutMs = 60_000): Promise<ProbeReply> {
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the bridge probe did not answer ${cmd}`)), timeoutMs);
      this.pending.set(id, (reply) => {
        clearTimeout(timer);
        if (reply.ok) resolve(reply);
        else reject(new Error(`the bridge probe failed ${cmd}: ${reply.error}`));
      });
      this.child.send({ id, cmd, ...extra } as ProbeCommand);
    });
  }

  async sample(gc: boolean): Promise<ProbeSample> {
    const reply = await this.ask('sample', { gc });
    return (reply as { sample: ProbeSample }).sample;
  }

  /** Peak RSS of the process so far (Linux), in bytes. */
  peakRss(): number | undefined {
    return processMemory(this.child.pid)?.peakRss;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
}

// ---- the machine ---------------------------------------------------------------------------------------------

/** How many calls the file-descriptor limit and the ephemeral port range allow (one socket per call each side). */
function callLimit(): { calls: number; why: string } {
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
async function startOrderApi(): Promise<{ url: string; server: Server; requests: () => number }> {
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

// ---- the benchmark ---------------------------------------------------------------------------------------------

interface Step {
  calls: number;
  /** Which window at this concurrency (a window lost to other processes is measured again). */
  attempt: number;
  eventsPerSecond: number;
  repliesPerSecond: number;
  bridge: ProbeSample;
  tool: number[];
  dtmf: number[];
  heapPerCallKb: number;
  rssPerCallKb: number;
  failedCalls: number;
  unanswered: number;
  generatorP99: number;
  /** Share of its core the load side used over the window. */
  generatorCpu: number;
  /** How long reaching this step's calls took. */
  rampSeconds: number;
  passed: boolean;
  /** Failed on latency alone while the bridge waited for its CPU (other processes): worth measuring again. */
  noisy: boolean;
  why?: string;
}

export async function benchCapacity(): Promise<BenchResult> {
  const windowSeconds = Number(process.env.BENCH_SECONDS ?? 10);
  const tries = Math.max(1, Number(process.env.BENCH_CAPACITY_TRIES ?? 2));
  const wantedPriority = process.env.BENCH_CAPACITY_PRIORITY ?? 'normal';
  if (wantedPriority !== 'realtime' && wantedPriority !== 'nice' && wantedPriority !== 'normal') {
    throw new Error('BENCH_CAPACITY_PRIORITY must be realtime, nice or normal');
  }
  const rampRate = Number(process.env.BENCH_CAPACITY_RAMP ?? 200);
  const limit = callLimit();
  const requested = (process.env.BENCH_CAPACITY_STEPS ?? '').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
  const allSteps = requested.length > 0 ? requested : DEFAULT_STEPS;
  const steps = allSteps.filter((n) => n <= limit.calls);
  const withDiscord = process.env.BENCH_CAPACITY_DISCORD !== '0';
  const profileDir = process.env.BENCH_CAPACITY_PROFILE;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const shape = passShape();
  const started = performance.now();

  const load = new Load();
  const live: EmulatedCall[] = [];
  const results: Step[] = [];
  /** Calls hung up on purpose (the warm-up): their end is not a drop. */
  const hungUp = new Set<EmulatedCall>();
  /** What to undo, in reverse order, however the benchmark ends. */
  const cleanup: Array<() => unknown> = [];

  try {
    const pin = pinning('the load (emulator, order API, FakeDiscord)');
    cleanup.push(pin.restore);
    const secret = newWebhookSecret();
    const emulator = await new OpenAIEmulator({ apiKey: API_KEY, webhookSecret: secret }).start();
    cleanup.push(() => emulator.stop());
    const orderApi = await startOrderApi();
    cleanup.push(() => {
      orderApi.server.closeAllConnections();
      return new Promise((resolve) => orderApi.server.close(resolve));
    });
    const discord = withDiscord ? await new FakeDiscord().start() : undefined;
    if (discord) cleanup.push(() => discord.stop());
    const dataDir = mkdtempSync(join(tmpdir(), 'bench-capacity-'));
    cleanup.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const bridge = BridgeProcess.start(
      {
        PATH: process.env.PATH ?? '',
        NODE_OPTIONS: '',
        NO_COLOR: '1',
        PORT: '0',
        HOST: '127.0.0.1',
        OPENAI_API_KEY: API_KEY,
        OPENAI_WEBHOOK_SECRET: secret,
        OPENAI_BASE_URL: emulator.baseUrl,
        DATA_DIR: dataDir,
        WELCOME_MESSAGE: 'Thanks for calling Acme, how can I help?',
        ORDER_API_URL: orderApi.url,
        ORDER_API_TOKEN,
        NOTIFY_CONSOLE: 'false',
        ...(process.env.BENCH_PROBE_SQL === '1' ? { BENCH_PROBE_SQL: '1' } : {}),
        ...(discord ? { DISCORD_WEBHOOK_URL: discord.webhookUrl('capacity') } : {}),
      },
      pin.bridgeCpu,
      dataDir, // no .env is read from the repository
      process.env.BENCH_CAPACITY_BRIDGE_LOG,
    );
    cleanup.push(() => {
      load.stopping = true;
      return bridge.stop();
    });
    const priority = bridge.prioritise(wantedPriority);
    const generatorDelay = monitorEventLoopDelay({ resolution: 1 });
    generatorDelay.enable();
    cleanup.push(() => generatorDelay.disable());
    const webhookUrl = `${await bridge.url}/openai/webhook`;

    /** Places `count` calls at `rampRate` per second; resolves once every sideband is open (or has failed). */
    const addCalls = async (count: number, into: EmulatedCall[]): Promise<void> => {
      const interval = 1000 / rampRate;
      const begin = performance.now();
      const inFlight = new Set<Promise<void>>();
      const connected: Promise<void>[] = [];
      for (let i = 0; i < count; i++) {
        const wait = begin + i * interval - performance.now();
        if (wait > 1) await sleep(wait);
        let call!: EmulatedCall;
        const tag = Math.random().toString(36).slice(2, 10);
        call = emulator.createCall({ script: { steps: load.conversation(tag, () => call, shape.seconds * 1000) } });
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
              Promise.race([call.connected.then(() => true), sleep(CONNECT_TIMEOUT_MS, false)]).then((open) => {
                if (!open) load.connectFailures++;
                else
                  void call.ended.then(() => {
                    if (!load.stopping && !hungUp.has(call)) load.dropped++;
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
    };

    // Warm-up: JIT, pools, statement caches, then an idle baseline once those calls have hung up.
    const warmUp: EmulatedCall[] = [];
    await addCalls(WARM_UP_CALLS, warmUp);
    await sleep(WARM_UP_MS);
    for (const call of warmUp) {
      hungUp.add(call);
      call.hangUp();
    }
    await Promise.all(warmUp.map((c) => Promise.race([c.ended, sleep(5000)])));
    await sleep(2000); // the bridge finishes those calls (records, summaries)
    for (const call of warmUp) emulator.calls.delete(call.callId);
    if (load.failedCalls > 0) throw new Error(`${load.failedCalls} of the ${WARM_UP_CALLS} warm-up calls failed`);
    load.unanswered = 0;
    load.mismatched = 0;
    const baseline = await bridge.sample(true);
    if (profileDir) await bridge.ask('heap-snapshot', { path: join(profileDir, 'capacity-baseline.heapsnapshot') });
    const orderRequestsAtStart = orderApi.requests();

    /** One measurement window at the current concurrency, judged. */
    const measure = async (target: number, rampSeconds: number, attempt: number): Promise<Step> => {
      const failedBefore = load.failedCalls;
      const window: Window = { tool: [], dtmf: [] };
      if (profileDir) await bridge.ask('profile-start'); // before the window: starting the profilers stalls the bridge
      generatorDelay.reset();
      await bridge.ask('reset');
      const windowStart = performance.now();
      const generatorCpuStart = process.cpuUsage();
      const sentBefore = load.sent;
      const receivedBefore = emulatorClientEvents(live);
      load.window = window;
      await sleep(windowSeconds * 1000);
      load.window = undefined;
      const seconds = (performance.now() - windowStart) / 1000;
      const generatorCpuUsed = process.cpuUsage(generatorCpuStart);
      const sent = load.sent - sentBefore;
      const replies = emulatorClientEvents(live) - receivedBefore;
      if (profileDir) await bridge.ask('profile-stop', { path: join(profileDir, `capacity-${target}-${attempt}`) });
      const generatorP99 = Math.max(0, generatorDelay.percentile(99) / 1e6 - 1);
      const sample = await bridge.sample(true);
      if (profileDir && attempt === 1 && target === steps.find((n) => n >= 1000)) {
        await bridge.ask('heap-snapshot', { path: join(profileDir, `capacity-${target}.heapsnapshot`) });
      }
      // Answers still on their way when the window closed are waited for before judging the step.
      await sleep(1000);
      const failedCalls = load.failedCalls;
      const problems: string[] = [];
      if (sample.delay.p99 > P99_LIMIT_MS) problems.push(`event-loop delay p99 ${sample.delay.p99.toFixed(1)} ms > ${P99_LIMIT_MS} ms`);
      if (failedCalls > 0) problems.push(`${failedCalls} failed call(s) (${failedCalls - failedBefore} in this window)`);
      if (load.unanswered > 0) problems.push(`${load.unanswered} event(s) never answered`);
      if (load.mismatched > 0) problems.push(`${load.mismatched} answer(s) to the wrong event`);
      const latencyOnly = problems.length === 1 && sample.delay.p99 > P99_LIMIT_MS;
      return {
        calls: target,
        attempt,
        eventsPerSecond: sent / seconds,
        repliesPerSecond: replies / seconds,
        bridge: sample,
        tool: sortNumbers(window.tool),
        dtmf: sortNumbers(window.dtmf),
        heapPerCallKb: (sample.memory.heapUsed - baseline.memory.heapUsed) / target / 1024,
        rssPerCallKb: (sample.memory.rss - baseline.memory.rss) / target / 1024,
        failedCalls,
        unanswered: load.unanswered,
        generatorP99,
        generatorCpu: (generatorCpuUsed.user + generatorCpuUsed.system) / 1e6 / seconds,
        rampSeconds,
        passed: problems.length === 0,
        noisy: latencyOnly && (sample.runQueueWait ?? 0) > NOISY_WAIT,
        ...(problems.length > 0 ? { why: problems.join('; ') } : {}),
      };
    };

    let stoppedBecause = '';
    for (const target of steps) {
      const rampStart = performance.now();
      await addCalls(target - live.length, live);
      const rampSeconds = (performance.now() - rampStart) / 1000;
      await sleep(SETTLE_MS);
      let step = await measure(target, rampSeconds, 1);
      // A window lost to other processes on the bridge's core (a shared machine) is measured again; a failed or
      // unanswered call never is.
      while (!step.passed && step.noisy && step.attempt < tries) {
        results.push(step);
        await sleep(1000);
        step = await measure(target, rampSeconds, step.attempt + 1);
      }
      results.push(step);
      if (!step.passed) {
        stoppedBecause = `stopped at ${target} calls: ${step.why}`;
        break;
      }
    }
    if (!stoppedBecause) {
      stoppedBecause =
        steps.length < allSteps.length
          ? `stopped at ${steps[steps.length - 1] ?? 0} calls: more would exceed ${limit.why} (raise it with \`ulimit -n\` to go further)`
          : `every step passed (the last was ${steps[steps.length - 1]} calls)`;
    }

    return report({
      results,
      baseline,
      shape,
      windowSeconds,
      tries,
      rampRate,
      pinNote: pin.note,
      priorityNote: PRIORITY_NOTES[priority],
      withDiscord,
      stoppedBecause,
      bridgeErrors: { count: bridge.errorCount, last: bridge.errorLines },
      toolRuns: orderApi.requests() - orderRequestsAtStart,
      peakRss: bridge.peakRss(),
      handshakes: handshakeStats(emulator),
      minutes: (performance.now() - started) / 60_000,
      profileDir,
    });
  } finally {
    for (const undo of cleanup.reverse()) {
      try {
        await undo();
      } catch {
        // the rest is still undone
      }
    }
  }
}

const PRIORITY_NOTES = {
  realtime:
    "the bridge's event-loop thread runs SCHED_RR (`chrt -r 10`), so that other processes on that core do not delay it: " +
    "the core is its own, as a pod's CPU would be",
  nice: "the bridge's event-loop thread runs at nice -10 (SCHED_RR was not permitted): other processes on that core still delay it at times",
  normal: 'the bridge runs at normal priority: other processes on that core delay it at times',
};

/** Sideband handshakes the emulator saw: opened, refused, and calls whose sideband was opened more than once. */
function handshakeStats(emulator: OpenAIEmulator): { opened: number; refused: number; reattached: number } {
  const opened = new Map<string, number>();
  let refused = 0;
  for (const attempt of emulator.handshakes) {
    if (attempt.status === 101) opened.set(attempt.callId, (opened.get(attempt.callId) ?? 0) + 1);
    else refused++;
  }
  return { opened: [...opened.values()].reduce((a, b) => a + b, 0), refused, reattached: [...opened.values()].filter((n) => n > 1).length };
}

function emulatorClientEvents(calls: EmulatedCall[]): number {
  let n = 0;
  for (const call of calls) n += call.clientEvents.length;
  return n;
}

interface ReportInput {
  results: Step[];
  baseline: ProbeSample;
  shape: { events: number; seconds: number };
  windowSeconds: number;
  tries: number;
  rampRate: number;
  pinNote: string;
  priorityNote: string;
  withDiscord: boolean;
  stoppedBecause: string;
  bridgeErrors: { count: number; last: string[] };
  toolRuns: number;
  peakRss?: number;
  handshakes: { opened: number; refused: number; reattached: number };
  minutes: number;
  profileDir?: string;
}

/** With BENCH_PROBE_SQL=1: where the last window's SQLite time went, by statement. */
function sqlTable(step: Step | undefined): string[] {
  const sql = step?.bridge.sql;
  if (!step || !sql) return [];
  return [
    '',
    `SQLite statements in the last window (${step.calls.toLocaleString('en-US')} calls, ${step.bridge.seconds.toFixed(0)} s), by total time:`,
    '',
    '| statement | count | total ms | max ms |',
    '|---|---:|---:|---:|',
    ...sql.slice(0, 12).map((s) => `| \`${s.statement.replace(/\|/g, '\\|')}\` | ${s.count} | ${s.totalMs.toFixed(0)} | ${s.maxMs.toFixed(1)} |`),
  ];
}

function verdict(step: Step, tries: number): string {
  if (step.passed) return 'pass';
  if (step.noisy && step.attempt < tries) return `fail (${step.why}) while other processes held its core: measured again`;
  return `**fail**: ${step.why}`;
}

function report(input: ReportInput): BenchResult {
  const { results, baseline, shape, tries } = input;
  const best = [...results].reverse().find((r) => r.passed);
  const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
  const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–');
  const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '–');
  const int = (n: number) => Math.round(n).toLocaleString('en-US');
  const pct = (share: number) => `${(share * 100).toFixed(0)} %`;
  const pq = (sorted: number[]) => `${f1(quantile(sorted, 0.5))} / ${f1(quantile(sorted, 0.99))}`;

  const lines = [
    '## Capacity: concurrent calls on one core',
    '',
    `One bridge process (the built app, production settings: SQLite, production logs, \`lookup_order\` against a local ` +
      `order API, ${input.withDiscord ? 'live notifications through the outbox into a FakeDiscord without rate limit' : 'no notification destination'}); ` +
      `${input.pinNote}; ${input.priorityNote}. Each call plays an endless scripted conversation (emulator script builder): caller turns with ` +
      `transcription deltas (one in three transcribed late), agent turns streaming transcript deltas with playback (one ` +
      `in four interrupted), one \`lookup_order\` tool call and DTMF \`12#\` per pass — ${shape.events} events per ` +
      `${f1(shape.seconds)} s pass, ${f1(shape.events / shape.seconds)} events/s per call on average, in bursts of up to ` +
      `~35 during agent speech. Calls start at random points of the conversation. Concurrency rises in steps ` +
      `(${input.rampRate} new calls/s, each with its webhook, accept and sideband), then ${SETTLE_MS / 1000} s to settle and a ` +
      `${input.windowSeconds} s measurement window. A window that fails on latency alone while the bridge's event-loop ` +
      `thread waited for its CPU more than ${NOISY_WAIT * 100} % of the time (other processes on its core) is measured ` +
      `again, up to ${tries} windows per step.`,
    '',
    '| calls | events/s in | replies/s out | bridge CPU (event loop) | waited for CPU | loop delay p50 / p99 / max (ms) | GC pauses: minor n, total; major n, max (ms) | DTMF `#` → reply p50 / p99 (ms) | tool call → output p50 / p99 (ms) | heap used (MB) | RSS (MB) | heap / call (KB) | RSS / call (KB) | failed calls | unanswered | ramp (s) | load side: CPU, loop p99 (ms) | |',
    '|---:|---:|---:|---:|---:|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|',
    ...results.map(
      (r) =>
        `| ${int(r.calls)}${r.attempt > 1 ? ` (window ${r.attempt})` : ''} | ${int(r.eventsPerSecond)} | ${int(r.repliesPerSecond)} | ${pct(r.bridge.cpu)}${r.bridge.mainThreadCpu !== undefined ? ` (${pct(r.bridge.mainThreadCpu)})` : ''} | ${r.bridge.runQueueWait !== undefined ? pct(r.bridge.runQueueWait) : '–'} | ` +
        `${f2(r.bridge.delay.p50)} / ${f2(r.bridge.delay.p99)} / ${f1(r.bridge.delay.max)} | ` +
        `${r.bridge.gc.minor.count}, ${r.bridge.gc.minor.totalMs.toFixed(0)}; ${r.bridge.gc.major.count}, ${r.bridge.gc.major.maxMs.toFixed(0)} | ${pq(r.dtmf)} | ${pq(r.tool)} | ` +
        `${mb(r.bridge.memory.heapUsed)} | ${mb(r.bridge.memory.rss)} | ${f1(r.heapPerCallKb)} | ${f1(r.rssPerCallKb)} | ` +
        `${r.failedCalls} | ${r.unanswered} | ${f1(r.rampSeconds)} | ${(r.generatorCpu * 100).toFixed(0)} %, ${f1(r.generatorP99)} | ${verdict(r, tries)} |`,
    ),
    '',
    best
      ? `**Capacity: ${int(best.calls)} concurrent calls on one core**; memory per call at that step: ` +
        `**${f1(best.heapPerCallKb)} KB heap, ${f1(best.rssPerCallKb)} KB RSS** (after a full GC, minus the idle ` +
        `baseline of ${mb(baseline.memory.heapUsed)} MB heap / ${mb(baseline.memory.rss)} MB RSS).`
      : '**Capacity: no step passed.**',
    `${input.stoppedBecause}.`,
    '',
    `What gates the figure: the bridge's own event-loop delay (\`monitorEventLoopDelay\`, 1 ms resolution, read by a ` +
      `probe preloaded into the bridge) — how long any event waits before the bridge can handle it — must have p99 ≤ ` +
      `${P99_LIMIT_MS} ms over the window, and no call may fail (webhook not 200, sideband not open within ` +
      `${CONNECT_TIMEOUT_MS / 1000} s, sideband dropped) and no measured event go unanswered for ${ANSWER_TIMEOUT_MS / 1000} s. ` +
      'The end-to-end columns are measured on the load side, from sending the event to receiving the bridge\'s ' +
      '`conversation.item.create`: DTMF `#` → the message telling the model the keys (bridge only), and ' +
      '`response.function_call_arguments.done` → `function_call_output` (includes the order API round trip on the load ' +
      'core). They include the load process\'s own scheduling delay (its loop p99 is shown), so they corroborate the ' +
      'gate rather than make it. Bridge CPU is user + system time of all its threads over the window (100 % = the core ' +
      'is full), in brackets that of the event-loop thread alone (the rest is V8\'s GC helpers and libuv\'s pool, on the ' +
      'same core). "Waited for CPU" is the share of the window the event-loop thread was ready to run but had no CPU: ' +
      'the bridge\'s own helper threads or other processes on its core (the machine is shared).',
    `Tool runs during the steps: ${int(input.toolRuns)}. Sideband handshakes: ${int(input.handshakes.opened)} opened, ` +
      `${int(input.handshakes.refused)} refused, ${int(input.handshakes.reattached)} call(s) opened more than once. ` +
      `Bridge lines on stderr: ${input.bridgeErrors.count}` +
      (input.bridgeErrors.count > 0 ? ` (last: \`${input.bridgeErrors.last.join(' ⏎ ').replace(/`/g, "'")}\`)` : '') +
      `. Peak bridge RSS: ${input.peakRss ? `${mb(input.peakRss)} MB` : 'unknown'}. Took ${input.minutes.toFixed(1)} min.`,
    ...(input.profileDir ? [`CPU profiles of every window and heap snapshots: \`${input.profileDir}\`.`] : []),
    ...sqlTable(results[results.length - 1]),
  ];

  const capacity = best?.calls ?? 0;
  const perCall = best ? Math.max(best.heapPerCallKb, best.rssPerCallKb) : NaN;
  return {
    section: lines.join('\n'),
    targets: [
      {
        name: 'Capacity',
        goal: `≥ ${TARGET_CALLS.toLocaleString('en-US')} concurrent calls per core (p99 ≤ ${P99_LIMIT_MS} ms, no failed call)`,
        measured: `${capacity.toLocaleString('en-US')} calls`,
        met: capacity >= TARGET_CALLS,
      },
      {
        name: 'Memory per call',
        goal: `≤ ${TARGET_KB_PER_CALL} KB per call (heap and RSS) at that capacity`,
        measured: best ? `${f1(best.heapPerCallKb)} KB heap, ${f1(best.rssPerCallKb)} KB RSS` : 'no passing step',
        met: perCall <= TARGET_KB_PER_CALL,
      },
    ],
  };
}

// `node --expose-gc dist/bench/src/capacity.bench.js` runs this one alone.
if (import.meta.url === `file://${process.argv[1]}` && existsSync(MAIN)) {
  console.log((await benchCapacity()).section);
}
