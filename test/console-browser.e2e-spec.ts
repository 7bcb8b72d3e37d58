import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { OpenAIEmulator, newWebhookSecret, script } from '#emulator';
import { CHROMIUM_ARGS, CHROMIUM_PATH, CuttableRelay, browserUnavailable } from './support/browser.js';
import { BUILT_MAIN, emulatorEnv, listeningUrl, runBuiltBridge, type RunningProcess } from './support/process.js';

// The console in a real browser (Debian's Chromium driven by playwright-core) against the built bridge and the
// OpenAI emulator: sign-in, a live call appearing and its lines streaming in, a dropped connection resuming without a
// gap, the ended call in history, search, export, and the charts. Without Chromium the suite is skipped and says
// why; CI sets CONSOLE_BROWSER_REQUIRED=1 and installs Chromium, so there it always runs.

const TOKEN = 'browser-suite-admin-token-0123456789';
const API_KEY = 'sk-browser-suite-0123456789';

const missing = browserUnavailable() ?? (existsSync(BUILT_MAIN) ? undefined : 'the bridge is not built (npm run build)');
if (missing && process.env.CONSOLE_BROWSER_REQUIRED === '1') throw new Error(`the browser suite must run here, but ${missing}`);
if (missing) console.warn(`console browser suite skipped: ${missing}`);
const describeBrowser = missing ? describe.skip : describe;

/** A conversation that takes a few seconds, so the browser sees it live. */
function slowConversation() {
  return script()
    .pause(600)
    .callerSays('Hello, I am calling about my parcel delivery')
    .agentSays('Of course. Could you tell me the order number, please?', { interruptedAfterWords: 4 })
    .pause(500)
    .callerSays('It is seven seven three')
    .pause(500)
    .callerSays('mumble', { transcription: 'failed' })
    .agentSays('Thank you, I found order seven seven three.')
    .pause(2500)
    .callerSays('Great, thanks a lot')
    .pause(500)
    .agentSays('You are welcome, goodbye!')
    .pause(400)
    .hangup();
}

describeBrowser('the console in Chromium', () => {
  let emulator: OpenAIEmulator;
  let bridge: RunningProcess;
  let relay: CuttableRelay;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let webhookUrl: string;
  let callId: string;
  const shots = process.env.CONSOLE_SCREENSHOTS;
  /** Uncaught errors in the page: none is allowed. */
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const secret = newWebhookSecret();
    emulator = await new OpenAIEmulator({ apiKey: API_KEY, webhookSecret: secret }).start();
    bridge = runBuiltBridge({
      ...emulatorEnv(emulator, API_KEY, secret),
      ADMIN_API_TOKEN: TOKEN,
      DATA_DIR: mkdtempSync(join(tmpdir(), 'console-browser-')),
      SIDEBAND_HANDSHAKE_BACKOFF_MS: '20',
    });
    const url = new URL(await listeningUrl(bridge, 20_000));
    webhookUrl = `${url.origin}/openai/webhook`;
    relay = await new CuttableRelay({ host: url.hostname, port: Number(url.port) }).start();
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
    context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
  }, 60_000);

  afterAll(async () => {
    expect(pageErrors).toEqual([]);
    await browser?.close();
    await relay?.stop();
    if (bridge) {
      bridge.child.kill('SIGTERM');
      await bridge.exited;
    }
    await emulator?.stop();
  });

  it('sends a visitor to sign-in, refuses a wrong token and lets the right one in', async () => {
    await page.goto(`${relay.url}/console/`);
    await page.waitForURL(/\/console\/signin/);
    await page.getByTestId('signin-token').fill('not-the-token-0000000000');
    await page.getByTestId('signin-submit').click();
    await expectText(page.getByTestId('signin-error'), /wrong token/i);
    await page.getByTestId('signin-token').fill(TOKEN);
    await page.getByTestId('signin-submit').click();
    await page.waitForURL(new RegExp(`${relay.url}/console/?$`));
    await expectText(page.getByTestId('feed-state'), /^live$/);
    const cookies = await context.cookies();
    expect(cookies).toEqual([expect.objectContaining({ name: 'console_session', httpOnly: true, sameSite: 'Strict' })]);
    expect(JSON.stringify(cookies)).not.toContain(TOKEN);
  }, 30_000);

  it('shows a live call as it is accepted, and its lines stream in while it talks, through a dropped connection', async () => {
    const { call } = await emulator.placeCall(webhookUrl, { from: '+14155550142', to: '+18005550199', script: slowConversation() });
    callId = call.callId;
    const row = page.locator(`[data-testid="live-row"][data-call-id="${callId}"]`);
    await row.waitFor({ timeout: 5000 });
    expect(await row.textContent()).toContain('+14155550142');
    // Its last line follows the conversation.
    await expectText(row, /(Caller|Agent): /);
    if (shots) await page.screenshot({ path: join(shots, 'console-live.png') });
    await row.locator('a').first().click();
    await page.waitForURL(new RegExp(`/console/calls/${callId}$`));
    // The first lines arrive while the call is still talking.
    await page.locator('[data-testid="call-line"][data-seq="1"]').waitFor({ timeout: 5000 });
    expect(await page.getByTestId('call-end-reason').count()).toBe(0);
    // The network drops mid-call; lines are released meanwhile; the feed comes back and nothing is missing.
    const dropped = relay.drop(1500);
    await expectText(page.getByTestId('feed-state'), /^reconnecting$/, 1500);
    await dropped;
    await expectText(page.getByTestId('call-end-reason'), /remote_closed/, 20_000);
    await expectText(page.getByTestId('feed-state'), /^live$/);
    const lines = await page.getByTestId('call-line').evaluateAll((nodes) => nodes.map((n) => `${n.getAttribute('data-seq')} ${n.textContent?.replace(/\s+/g, ' ').trim()}`));
    expect(lines).toEqual([
      expect.stringMatching(/^0 Caller:? Hello, I am calling about my parcel delivery$/),
      expect.stringMatching(/^1 Agent:? Of course\. Could you.*\[interrupted\]$/),
      expect.stringMatching(/^2 Caller:? It is seven seven three$/),
      expect.stringMatching(/^3 Caller:? \[inaudible\]$/),
      expect.stringMatching(/^4 Agent:? Thank you, I found order seven seven three\.$/),
      expect.stringMatching(/^5 Caller:? Great, thanks a lot$/),
      expect.stringMatching(/^6 Agent:? You are welcome, goodbye!$/),
    ]);
    if (shots) await page.screenshot({ path: join(shots, 'console-call.png'), fullPage: true });
  }, 60_000);

  it('downloads the call as JSON, CSV and text from its page', async () => {
    for (const [id, check] of [
      ['export-json', (text: string) => expect(JSON.parse(text).call.callId).toBe(callId)],
      ['export-csv', (text: string) => expect(text.split('\r\n')[0]).toBe('at,kind,seq,speaker,text,status,detail')],
      ['export-text', (text: string) => expect(text).toContain('Caller: Hello, I am calling about my parcel delivery')],
    ] as const) {
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId(id).click()]);
      check(readFileSync((await download.path())!, 'utf8'));
    }
  }, 30_000);

  it('lists the ended call in history and finds it by a word it said, highlighted', async () => {
    await page.goto(`${relay.url}/console/history`);
    await page.locator(`[data-testid="history-row"][data-call-id="${callId}"]`).waitFor({ timeout: 5000 });
    await page.getByTestId('search-input').fill('parcel');
    await page.getByTestId('search-submit').click();
    const mark = page.locator(`[data-testid="history-row"][data-call-id="${callId}"] [data-testid="match-highlight"]`);
    await mark.first().waitFor({ timeout: 5000 });
    expect((await mark.first().textContent())?.toLowerCase()).toBe('parcel');
    await page.getByTestId('search-input').fill('zebra');
    await page.getByTestId('search-submit').click();
    await page.locator('[data-testid="history-row"]').first().waitFor({ state: 'detached', timeout: 5000 });
  }, 30_000);

  it('draws the charts from the aggregate endpoint', async () => {
    await page.goto(`${relay.url}/console/stats`);
    const charts = page.getByTestId('stats-chart');
    await charts.first().waitFor({ timeout: 5000 });
    expect(await charts.count()).toBeGreaterThanOrEqual(2);
    expect(await page.locator('[data-testid="stats-chart"] rect').count()).toBeGreaterThan(0);
  }, 30_000);

  it('signs out, after which the API refuses the browser', async () => {
    await page.goto(`${relay.url}/console/`);
    await page.getByRole('button', { name: /sign out/i }).click();
    await page.waitForURL(/\/console\/signin/);
    expect(await context.cookies()).toEqual([]);
    const status = await page.evaluate(async () => (await fetch('/calls')).status);
    expect(status).toBe(401);
  }, 30_000);
});

async function expectText(locator: ReturnType<Page['locator']>, pattern: RegExp, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string | null = null;
  while (Date.now() < deadline) {
    if ((await locator.count()) > 0) {
      last = await locator.first().textContent();
      if (last !== null && pattern.test(last.trim())) return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`expected text ${pattern}, last saw ${JSON.stringify(last)}`);
}
