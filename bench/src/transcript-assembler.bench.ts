/**
 * How fast the transcript assembler turns realtime events into ordered lines, on one core, and what a live call's
 * transcript state costs in memory. The events are the emulator's scripts of a real conversation: word-sized
 * transcript deltas, late caller transcriptions, interruptions and tool calls.
 */
import { performance } from 'node:perf_hooks';
import { script, type ConversationScript } from '#emulator';
import type { RealtimeServerEvent } from '#events';
import { TranscriptAssembler } from '#transcripts';
import type { BenchResult } from './report.js';

function conversation(turns: number): ConversationScript {
  const s = script();
  for (let turn = 0; turn < turns; turn++) {
    s.callerSays(`I would like to ask about order number ${turn}, it has not arrived yet and I am worried.`, {
      transcription: turn % 4 === 0 ? 'late' : 'inline',
    });
    if (turn % 10 === 5) s.toolCall('lookup_order', { id: String(turn) });
    s.agentSays(`Thanks for waiting. Order ${turn} left our warehouse yesterday and should arrive within two days.`, {
      interruptedAfterWords: turn % 7 === 3 ? 5 : undefined,
    });
  }
  return s.hangup();
}

function eventsOf(s: ConversationScript): RealtimeServerEvent[] {
  return s.steps.flatMap((step) => (step.kind === 'send' ? [step.event as RealtimeServerEvent] : []));
}

function run(events: RealtimeServerEvent[], callId: string): number {
  let lines = 0;
  const assembler = new TranscriptAssembler({ callId, placeholderAfterMs: 5000, onLine: () => lines++ });
  for (const event of events) assembler.handle(event);
  assembler.finish();
  return lines;
}

function throughput(): {
  eventsPerCall: number;
  eventsPerSecond: number;
  linesPerSecond: number;
  linesPerCall: number;
  /** Time to assemble one whole call, sorted (ms). */
  perCallMs: number[];
} {
  const events = eventsOf(conversation(300));
  // Fresh event objects per call, as parsed frames would be.
  const copies = Array.from({ length: 20 }, () => structuredClone(events));
  for (let i = 0; i < 5; i++) run(copies[i % copies.length], `warm_${i}`); // JIT
  const calls = 200;
  let lines = 0;
  const perCallMs: number[] = [];
  const started = performance.now();
  for (let i = 0; i < calls; i++) {
    const callStarted = performance.now();
    lines += run(copies[i % copies.length], `call_${i}`);
    perCallMs.push(performance.now() - callStarted);
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    eventsPerCall: events.length,
    eventsPerSecond: (events.length * calls) / seconds,
    linesPerSecond: lines / seconds,
    linesPerCall: lines / calls,
    perCallMs: perCallMs.sort((a, b) => a - b),
  };
}

/** Heap held by 1,000 live calls, each half-way through a 40-turn conversation (the events themselves let go). */
function memoryPerLiveCall(): number | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  const all = eventsOf(conversation(40));
  const midCall = all.slice(0, Math.floor(all.length / 2));
  gc();
  const before = process.memoryUsage().heapUsed;
  const live: TranscriptAssembler[] = [];
  for (let i = 0; i < 1000; i++) {
    const assembler = new TranscriptAssembler({ callId: `live_${i}`, placeholderAfterMs: 5000, onLine: () => {} });
    for (const event of structuredClone(midCall)) assembler.handle(event);
    live.push(assembler);
  }
  gc();
  const perCall = (process.memoryUsage().heapUsed - before) / live.length;
  return live.length > 0 ? perCall : undefined;
}

export async function benchTranscriptAssembler(): Promise<BenchResult> {
  const { eventsPerCall, eventsPerSecond, linesPerSecond, linesPerCall, perCallMs } = throughput();
  const perCall = memoryPerLiveCall();
  const n = (value: number) => Math.round(value).toLocaleString('en-US');
  const at = (q: number) => perCallMs[Math.min(perCallMs.length - 1, Math.floor(q * perCallMs.length))].toFixed(2);
  return {
    section: [
      '## Transcript assembler',
      '',
      `200 calls of ${n(eventsPerCall)} events each (300 turns, ${n(linesPerCall)} lines), on one core.`,
      '',
      '| events/s | lines/s | one whole call p50 / p99 | heap per live call (20 turns in) |',
      '|---:|---:|---:|---:|',
      `| ${n(eventsPerSecond)} | ${n(linesPerSecond)} | ${at(0.5)} / ${at(0.99)} ms | ${perCall === undefined ? 'run with --expose-gc' : `${(perCall / 1024).toFixed(1)} KB`} |`,
      '',
      `Target ≥ 100,000 events/s: ${eventsPerSecond >= 100_000 ? 'met' : 'NOT met'}.`,
    ].join('\n'),
    targets: [{ name: 'Throughput', goal: '≥ 100,000 events/s on one core', measured: `${n(eventsPerSecond)} events/s`, met: eventsPerSecond >= 100_000 }],
  };
}
