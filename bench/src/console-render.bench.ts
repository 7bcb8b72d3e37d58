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
import { CallRecordsRepository, type CallRecordWrite } from '#storage';
import { withEnv } from '#testing';
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
    const now = Date.now();
    const writes: CallRecordWrite[] = [];
    for (let i = 0; i < LIVE_CALLS; i++) {
      const callId = `rtc_live_${String(i).padStart(5, '0')}`;
      writes.push(
        { kind: 'create', record: { callId, profile: i % 3 ? 'default' : 'sales', callerNumber: `+1415555${String(i).padStart(4, '0')}`, dialledNumber: '+18005551212', forwardedFrom: null, fromUri: null, sipCallId: null, twilioCallSid: null, conferenceName: null, acceptedAt: new Date(now - i * 1000), metadata: null } },
        { kind: 'lines', lines: [{ callId, seq: 0, speaker: 'caller', text: 'Hello, I would like to check on my order please.', itemId: null, interrupted: false, placeholder: false, at: new Date(now - i * 1000 + 500) }] },
      );
    }
    const longCall = 'rtc_long_call';
    writes.push({ kind: 'create', record: { callId: longCall, profile: 'default', callerNumber: '+14155550000', dialledNumber: '+18005551212', forwardedFrom: null, fromUri: null, sipCallId: null, twilioCallSid: null, conferenceName: null, acceptedAt: new Date(now - 3_600_000), metadata: null } });
    writes.push({
      kind: 'lines',
      lines: Array.from({ length: LINES }, (_, seq) => ({ callId: longCall, seq, speaker: seq % 2 ? ('agent' as const) : ('caller' as const), text: `Line ${seq}: a sentence of the kind people say on the phone, neither short nor long.`, itemId: null, interrupted: seq % 17 === 0, placeholder: false, at: new Date(now - 3_600_000 + seq * 5000) })),
    });
    await app.get(CallRecordsRepository).write(writes);

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const signIn = await context.request.post(`${base}/console/api/session`, { data: { token: TOKEN } });
    if (!signIn.ok()) throw new Error(`sign-in answered ${signIn.status()}`);
    const page = await context.newPage();
    const measure = async (path: string, selector: string, count: number, api: RegExp) => {
      const figures: Array<{ render: number; total: number }> = [];
      for (let run = 0; run < RUNS; run++) {
        await page.goto(`${base}${path}`);
        // A function, not a string: the console's CSP forbids eval. (This file is compiled without the DOM's types.)
        await page.waitForFunction(
          ({ s, n }) => (globalThis as unknown as { document: { querySelectorAll(q: string): { length: number } } }).document.querySelectorAll(s).length >= n,
          { s: selector, n: count },
          { timeout: 30_000 },
        );
        figures.push(
          await page.evaluate((pattern) => {
            const done = performance.now();
            const answers = performance.getEntriesByType('resource').filter((e) => new RegExp(pattern).test(e.name)) as unknown as Array<{ responseEnd: number }>;
            const lastAnswer = Math.max(...answers.map((e) => e.responseEnd));
            return { render: done - lastAnswer, total: done };
          }, api.source),
        );
      }
      figures.sort((a, b) => a.render - b.render);
      return figures[Math.floor(figures.length / 2)];
    };
    const live = await measure('/console/', '[data-testid="live-row"]', LIVE_CALLS, /\/calls\?/);
    const call = await measure(`/console/calls/${longCall}`, '[data-testid="call-line"]', LINES, /\/timeline/);
    const row = (name: string, f: { render: number; total: number }) => `| ${name} | ${f.render.toFixed(0)} | ${f.total.toFixed(0)} |`;
    const targets: Target[] = [
      { name: 'live list', goal: `${LIVE_CALLS.toLocaleString('en-US')} live calls drawn in ≤ ${TARGET_MS} ms`, measured: `${live.render.toFixed(0)} ms after the last answer (${live.total.toFixed(0)} ms from navigation)`, met: live.render <= TARGET_MS },
      { name: 'call page', goal: `a call of ${LINES} lines drawn in ≤ ${TARGET_MS} ms`, measured: `${call.render.toFixed(0)} ms after the answer (${call.total.toFixed(0)} ms from navigation)`, met: call.render <= TARGET_MS },
    ];
    const section = [
      `Headless Chromium at 1280×800, signed in, against an in-process bridge (SQLite); the median of ${RUNS} loads of each page.`,
      '',
      '| page | drawn after the last answer, ms | from navigation, ms |',
      '|---|---:|---:|',
      row(`live calls (${LIVE_CALLS.toLocaleString('en-US')}, fetched 100 a page)`, live),
      row(`a call of ${LINES} lines`, call),
    ].join('\n');
    return { section, targets };
  } finally {
    await browser.close();
    await app.close();
  }
}
