/**
 * The markdown report `npm run bench` writes: the machine and the code it ran on, a summary of every target
 * (met / NOT met) and every benchmark's section.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { arch, cpus, loadavg, release, totalmem, type } from 'node:os';

/** A target a benchmark checks; missing one is reported, not an error. */
export interface Target {
  name: string;
  goal: string;
  measured: string;
  met: boolean;
}

/** What a benchmark hands back: its markdown section and the targets it checked. */
export interface BenchResult {
  section: string;
  targets: Target[];
}

/** One benchmark as it ran: its result, or the error that stopped it. */
export interface BenchRun {
  name: string;
  result?: BenchResult;
  error?: Error;
  seconds: number;
  /** This (the benchmarking) process during the run. */
  memory: { peakRss: number; peakHeapUsed: number };
}

export interface Environment {
  date: string;
  commit: string;
  node: string;
  cpu: string;
  memory: string;
  os: string;
  load: string;
}

export function environment(repoRoot: string): Environment {
  const cores = cpus();
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    commit: gitCommit(repoRoot),
    node: `${process.version} (V8 ${process.versions.v8})`,
    cpu: `${cores.length} × ${cores[0]?.model.trim() ?? 'unknown CPU'}`,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    os: `${osName()}, ${type()} ${release()} ${arch()}`,
    load: loadavg()
      .map((n) => n.toFixed(2))
      .join(' / '),
  };
}

function gitCommit(cwd: string): string {
  const git = (...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const commit = git('rev-parse', '--short=12', 'HEAD');
    const branch = git('rev-parse', '--abbrev-ref', 'HEAD');
    const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
    return `${commit} (${branch}${dirty ? ', with uncommitted changes' : ''})`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

function osName(): string {
  try {
    const pretty = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1];
    if (pretty) return pretty;
  } catch {
    // not Linux, or no os-release
  }
  return process.platform;
}

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;

/** The header printed before the benchmarks run. */
export function renderHeader(env: Environment): string {
  return [
    '# Benchmark report',
    '',
    '| | |',
    '|---|---|',
    `| date | ${env.date} |`,
    `| commit | ${env.commit} |`,
    `| Node | ${env.node} |`,
    `| CPU | ${env.cpu} |`,
    `| memory | ${env.memory} |`,
    `| OS | ${env.os} |`,
    `| load average at start (1 / 5 / 15 min) | ${env.load} |`,
  ].join('\n');
}

/** The summary of targets: every target of every benchmark, and every benchmark that failed. */
export function renderSummary(runs: BenchRun[]): string {
  const rows = runs.flatMap((run) =>
    run.error
      ? [`| ${run.name} | the benchmark itself | **FAILED**: ${oneLine(run.error.message)} | **FAILED** |`]
      : (run.result?.targets ?? []).map((t) => `| ${run.name} | ${t.name}: ${t.goal} | ${t.measured} | ${t.met ? 'met' : '**NOT met**'} |`),
  );
  const targets = runs.flatMap((r) => r.result?.targets ?? []);
  const missed = targets.filter((t) => !t.met).length;
  const failed = runs.filter((r) => r.error).length;
  return [
    '## Targets',
    '',
    '| benchmark | target | measured | |',
    '|---|---|---|---|',
    ...rows,
    '',
    `${targets.length - missed} of ${targets.length} targets met` +
      (missed > 0 ? `, **${missed} NOT met**` : '') +
      (failed > 0 ? `; **${failed} benchmark(s) failed to run**` : '') +
      '.',
  ].join('\n');
}

/** A benchmark's section as it goes in the report (its memory footnote included). */
export function renderRun(run: BenchRun): string {
  const footer = `_Benchmark process: ${run.seconds.toFixed(0)} s, peak RSS ${mb(run.memory.peakRss)}, peak heap used ${mb(run.memory.peakHeapUsed)}._`;
  if (run.error) {
    return [`## ${run.name}: FAILED`, '', '```', (run.error.stack ?? run.error.message).slice(0, 4000), '```', '', footer].join('\n');
  }
  return `${run.result!.section}\n\n${footer}`;
}

export function renderReport(env: Environment, runs: BenchRun[], notes: string[]): string {
  return [renderHeader(env), '', ...notes.flatMap((n) => [n, '']), renderSummary(runs), '', ...runs.flatMap((r) => [renderRun(r), ''])].join('\n');
}

function oneLine(text: string): string {
  return text.split('\n')[0].replace(/\|/g, '\\|').slice(0, 300);
}
