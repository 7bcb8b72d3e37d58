/**
 * `npm run bench`: every benchmark, printed as markdown and written as a report (`bench-report.md` at the repository
 * root, or BENCH_REPORT=<path>). `BENCH_ONLY=transcripts` (or `webhook`, `tools`, `notifications`, `capacity`, or a
 * comma-separated list) runs some. A missed target is reported and still exits 0; a benchmark that fails to run
 * exits 1.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { benchCapacity } from './capacity.bench.js';
import { benchConsoleFeed } from './console-feed.bench.js';
import { benchConsoleRender } from './console-render.bench.js';
import { benchNotifications } from './notifications.bench.js';
import { benchSearch } from './search.bench.js';
import { environment, renderHeader, renderReport, renderRun, renderSummary, type BenchResult, type BenchRun } from './report.js';
import { benchToolCalls } from './tools.bench.js';
import { benchTranscriptAssembler } from './transcript-assembler.bench.js';
import { benchWebhookAccept } from './webhook-accept.bench.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const benchmarks: Record<string, { title: string; run: () => Promise<BenchResult> }> = {
  transcripts: { title: 'Transcript assembler', run: benchTranscriptAssembler },
  webhook: { title: 'Webhook → accept', run: benchWebhookAccept },
  tools: { title: 'Tool calls', run: benchToolCalls },
  notifications: { title: 'Discord delivery', run: benchNotifications },
  capacity: { title: 'Capacity', run: benchCapacity },
  search: { title: 'Console search', run: benchSearch },
  feed: { title: 'Console live feed', run: benchConsoleFeed },
  render: { title: 'Console rendering', run: benchConsoleRender },
};

const only = (process.env.BENCH_ONLY ?? '')
  .split(',')
  .map((name) => name.trim())
  .filter(Boolean);
const unknown = only.filter((name) => !(name in benchmarks));
if (unknown.length > 0) {
  console.error(`BENCH_ONLY names no benchmark: ${unknown.join(', ')} (known: ${Object.keys(benchmarks).join(', ')})`);
  process.exit(2);
}
const reportPath = resolve(process.env.BENCH_REPORT ?? resolve(REPO_ROOT, 'bench-report.md'));

const env = environment(REPO_ROOT);
console.log(`${renderHeader(env)}\n`);

const gc = (globalThis as { gc?: () => void }).gc;
const runs: BenchRun[] = [];
for (const [name, { title, run }] of Object.entries(benchmarks)) {
  if (only.length > 0 && !only.includes(name)) continue;
  gc?.();
  const memory = { peakRss: 0, peakHeapUsed: 0 };
  const sampleMemory = () => {
    const { rss, heapUsed } = process.memoryUsage();
    memory.peakRss = Math.max(memory.peakRss, rss);
    memory.peakHeapUsed = Math.max(memory.peakHeapUsed, heapUsed);
  };
  sampleMemory();
  const sampler = setInterval(sampleMemory, 250);
  const started = performance.now();
  const entry: BenchRun = { name: title, seconds: 0, memory };
  try {
    entry.result = await run();
  } catch (error) {
    entry.error = error instanceof Error ? error : new Error(String(error));
  } finally {
    clearInterval(sampler);
    sampleMemory();
    entry.seconds = (performance.now() - started) / 1000;
  }
  runs.push(entry);
  console.log(`${renderRun(entry)}\n`);
}

const notes = [
  only.length > 0 ? `Only some benchmarks ran (BENCH_ONLY=${only.join(',')}).` : '',
  'Latencies depend on whatever else the machine runs at the time (see the load average above).',
].filter(Boolean);
writeFileSync(reportPath, renderReport(env, runs, notes));
console.log(renderSummary(runs));
console.log(`\nReport written to ${reportPath}`);
// Anything a benchmark left behind (sockets, timers) must not keep the process alive.
process.exit(runs.some((r) => r.error) ? 1 : 0);
