/**
 * How fast the console draws what a busy deployment shows it: the live list with 1,000 calls, and a call of 500
 * lines, in headless Chromium against an in-process bridge whose storage is seeded directly. Each figure is the time
 * from the last API answer the page needed to the rows being in the document (the page's own work), and the whole
 * load besides.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBridge } from '#bridge';
import { newWebhookSecret } from '#emulator';
import { CallRecordsRepository } from '#storage';
import { consoleSeed, withEnv } from '#testing';
import type { BenchResult, Target } from './report.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TOKEN = 'bench-render-admin-token-0123456789';
const LIVE_CALLS = 1000;
const LINES = 500;
const TARGET_MS = 100;
const RUNS = 5;

export async function benchConsoleRender(): Promise<BenchResult> {
  if (!existsSync(CHROMIUM)) {
    return { section: `Skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH).`, targets: [] };
  }
  const env = {
    OPENAI_API_KEY: 'sk-bench-render',
    OPENAI_WEBHOOK_SECRET: newWebhookSecret(),
    OPENAI_BASE_URL: 'http://127.0.0.1:9',
    HOST: '127.0.0.1',
    ADMIN_API_TOKEN: TOKEN,
    DATA_DIR: mkdtempSync(join(tmpdir(), 'bench-render-')),
  };
  const app = await withEnv(env, () => startBridge({ port: 0, logger: false }));
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  try {
    const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const { writes, longCallId: longCall } = consoleSeed({ liveCalls: LIVE_CALLS, longCallLines: LINES });
    await app.get(CallRecordsRepository).write(writes);

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const signIn = await context.request.post(`${base}/console/api/session`, { data: { token: TOKEN } });
    if (!signIn.ok()) throw new Error(`sign-in answered ${signIn.status()}`);
    const page = await context.newPage();
    const measure = async (path: string, selector: string, count: number, api: RegExp) => {
      const figures: Figures[] = [];
      for (let run = 0; run < RUNS; run++) {
        await page.goto(`${base}${path}`);
        // The first screen: rows from the top of the viewport to below its bottom laid out (the check reads their
        // boxes, which forces the layout), and the list knowing all `count` (its last row's place, or the rows
        // themselves when every one is drawn). Checked each animation frame; the moment it holds is recorded.
        // Functions, not strings: the console's CSP forbids eval. (This file is compiled without the DOM's types.)
        await page.waitForFunction(screenful, { s: selector, n: count }, { timeout: 30_000, polling: 'raf' });
        const first = await page.evaluate(sinceLastAnswer, api.source);
        // Then the end of the list: scrolled to the bottom, until its last row is laid out on screen.
        await page.evaluate(startScrollToEnd);
        await page.waitForFunction(lastRowOnScreen, { s: selector, n: count }, { timeout: 30_000, polling: 'raf' });
        const end = await page.evaluate(sinceScroll);
        figures.push({ render: first.render, total: first.total, drawn: first.drawn, toEnd: end });
      }
      return median(figures);
    };
    const live = await measure('/console/', '[data-testid="live-row"]', LIVE_CALLS, /\/calls\?/);
    const call = await measure(`/console/calls/${longCall}`, '[data-testid="call-line"]', LINES, /\/timeline/);
    const row = (name: string, f: Figures) => `| ${name} | ${f.render.toFixed(0)} | ${f.total.toFixed(0)} | ${f.drawn} | ${f.toEnd.toFixed(0)} |`;
    const targets: Target[] = [
      { name: 'live list', goal: `${LIVE_CALLS.toLocaleString('en-US')} live calls drawn in ≤ ${TARGET_MS} ms`, measured: `${live.render.toFixed(0)} ms after the last answer (${live.total.toFixed(0)} ms from navigation)`, met: live.render <= TARGET_MS },
      { name: 'call page', goal: `a call of ${LINES} lines drawn in ≤ ${TARGET_MS} ms`, measured: `${call.render.toFixed(0)} ms after the answer (${call.total.toFixed(0)} ms from navigation)`, met: call.render <= TARGET_MS },
    ];
    const section = [
      `Headless Chromium at 1280×800, signed in, against an in-process bridge (SQLite); the median of ${RUNS} loads of each page.`,
      'Drawn: from the last API answer the page needed to its first screen of rows laid out, the list sized for all of',
      'them (the live list draws the rows near the viewport; a call draws a screenful, then the rest in idle time).',
      'To the end: from a jump to the bottom of the page to its last row laid out on screen.',
      '',
      '| page | drawn after the last answer, ms | from navigation, ms | rows in the document then | to the end, ms |',
      '|---|---:|---:|---:|---:|',
      row(`live calls (${LIVE_CALLS.toLocaleString('en-US')})`, live),
      row(`a call of ${LINES} lines`, call),
    ].join('\n');
    return { section, targets };
  } finally {
    await browser.close();
    await app.close();
  }
}

interface Figures {
  render: number;
  total: number;
  drawn: number;
  toEnd: number;
}

/** The run with the median first-screen time. */
function median(figures: Figures[]): Figures {
  const sorted = [...figures].sort((a, b) => a.render - b.render);
  return sorted[Math.floor(sorted.length / 2)]!;
}

// In the page. The bench is compiled without the DOM's types: the little it touches is typed here.
interface Box {
  top: number;
  bottom: number;
}
interface PageElement {
  getBoundingClientRect(): Box;
  getAttribute(name: string): string | null;
  closest?(selector: string): PageElement | null;
}
interface PageWindow {
  document: { querySelectorAll(selector: string): ArrayLike<PageElement>; documentElement: { scrollHeight: number } };
  innerHeight: number;
  performance: { now(): number; getEntriesByType(type: string): unknown[] };
  scrollTo(x: number, y: number): void;
  benchAt?: number;
}

/**
 * Rows down to the viewport's bottom (or all of them) laid out, and a windowed list sized for all `n` (its rows say
 * their place of how many). Self-contained: it runs in the page.
 */
function screenful({ s, n }: { s: string; n: number }): boolean {
  const w = globalThis as unknown as PageWindow;
  const rows = w.document.querySelectorAll(s);
  if (rows.length === 0) return false;
  const last = rows[rows.length - 1]!;
  const size = last.closest?.('[aria-setsize]')?.getAttribute('aria-setsize');
  if (size != null && Number(size) < n) return false;
  if (rows.length < n && last.getBoundingClientRect().bottom < w.innerHeight) return false;
  w.benchAt = w.performance.now();
  return true;
}

function sinceLastAnswer(pattern: string): { render: number; total: number; drawn: number } {
  const w = globalThis as unknown as PageWindow;
  const done = w.benchAt!;
  const answers = w.performance.getEntriesByType('resource').filter((e) => new RegExp(pattern).test((e as { name: string }).name)) as Array<{ responseEnd: number }>;
  const lastAnswer = Math.max(...answers.map((e) => e.responseEnd));
  return { render: done - lastAnswer, total: done, drawn: w.document.querySelectorAll('[data-testid="live-row"], [data-testid="call-line"]').length };
}

function startScrollToEnd(): void {
  const w = globalThis as unknown as PageWindow;
  w.benchAt = w.performance.now();
  w.scrollTo(0, w.document.documentElement.scrollHeight);
}

/**
 * The list's last row (place `n`) drawn and inside the viewport; until then, scrolled to the bottom again each frame
 * (a list still being drawn grows). Self-contained: it runs in the page.
 */
function lastRowOnScreen({ s, n }: { s: string; n: number }): boolean {
  const w = globalThis as unknown as PageWindow;
  const rows = w.document.querySelectorAll(s);
  const last = rows[rows.length - 1];
  const place = last?.closest?.('[aria-posinset]')?.getAttribute('aria-posinset');
  const box = last?.getBoundingClientRect();
  if (!last || !box || (place == null ? rows.length : Number(place)) < n || box.bottom > w.innerHeight + 1 || box.top < 0) {
    w.scrollTo(0, w.document.documentElement.scrollHeight);
    return false;
  }
  w.benchAt = w.performance.now() - w.benchAt!;
  return true;
}

function sinceScroll(): number {
  return (globalThis as unknown as PageWindow).benchAt!;
}
