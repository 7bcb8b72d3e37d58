/**
 * `npm run bench`: every benchmark, printed as markdown. `BENCH_ONLY=transcripts` (or `tools`, `webhook`, `notifications`) runs one.
 */
import { cpus, totalmem } from 'node:os';
import { benchNotifications } from './notifications.bench.js';
import { benchToolCalls } from './tools.bench.js';
import { benchTranscriptAssembler } from './transcript-assembler.bench.js';
import { benchWebhookAccept } from './webhook-accept.bench.js';

const benchmarks: Record<string, () => Promise<string>> = {
  transcripts: benchTranscriptAssembler,
  webhook: benchWebhookAccept,
  tools: benchToolCalls,
  notifications: benchNotifications,
};
const only = process.env.BENCH_ONLY;

console.log(`# Benchmarks\n`);
console.log(`${cpus().length} × ${cpus()[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}\n`);
for (const [name, bench] of Object.entries(benchmarks)) {
  if (only && only !== name) continue;
  console.log(await bench());
  console.log();
}
