import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Page } from 'playwright-core';
import { script } from '#emulator';
import { CallRecordsRepository, type CallRecordWrite } from '#storage';
import { consoleSeed } from '#testing';
import { CHROMIUM_ARGS, CHROMIUM_PATH, browserUnavailable, eventually } from './support/browser.js';
import { startHarness, type Harness } from './support/harness.js';

// The console's long lists in a real browser, against the real app on a real port whose storage holds what a busy
// deployment shows: 1,000 live calls and a call of 500 lines. The live list draws only the rows near the viewport
// (virtual.tsx); this proves that it still reads as the whole list — every place on screen covered, the right rows
// at any scroll position, keyboard navigation to rows not drawn, a call arriving and leaving live — and that a long
// call's page ends up with every line in the document, in order.

const TOKEN = 'long-lists-admin-token-0123456789';
const LIVE = 1000;
const LINES = 500;

const missing = browserUnavailable();
if (missing && process.env.CONSOLE_BROWSER_REQUIRED === '1') throw new Error(`the browser suite must run here, but ${missing}`);
if (missing) console.warn(`console long-list suite skipped: ${missing}`);
const describeBrowser = missing ? describe.skip : describe;

/** What the page shows of the live list: the drawn rows that overlap the viewport, and how much of it they cover. */
interface OnScreen {
  /** The rows overlapping the viewport: call id, place, size. */
  rows: Array<{ id: string; place: number; size: number }>;
  /** Px of the viewport inside the list that no drawn row covers. */
  uncovered: number;
  drawn: number;
  scrollY: number;
}

// What the page's functions below touch of the DOM (this suite is compiled without the DOM's types).
interface PageNode {
  getBoundingClientRect(): { top: number; bottom: number; height: number };
  getAttribute(name: string): string | null;
  closest(selector: string): PageNode | null;
  querySelector(selector: string): PageNode | null;
  querySelectorAll(selector: string): Iterable<PageNode>;
  dataset: Record<string, string | undefined>;
}
interface PageWindow {
  document: { querySelector(selector: string): PageNode | null; activeElement: PageNode | null; documentElement: { scrollHeight: number } };
  innerHeight: number;
  scrollY: number;
  scrollTo(x: number, y: number): void;
}

function onScreen(page: Page): Promise<OnScreen> {
  return page.evaluate(() => {
    const { document, innerHeight, scrollY } = globalThis as unknown as PageWindow;
    const list = document.querySelector('[role="list"][aria-label="Calls"]')!;
    const drawn = [...list.querySelectorAll(':scope > [data-testid="live-row"]')];
    const listBox = list.getBoundingClientRect();
    const top = Math.max(0, listBox.top + (list.querySelector('.calls-head')?.getBoundingClientRect().height ?? 0));
    const bottom = Math.min(innerHeight, listBox.bottom);
    const boxes = drawn.map((row) => ({ row, box: row.getBoundingClientRect() })).filter(({ box }) => box.bottom > top && box.top < bottom);
    let covered = top;
    let uncovered = 0;
    for (const { box } of boxes) {
      if (box.top > covered + 1) uncovered += box.top - covered;
      covered = Math.max(covered, box.bottom);
    }
    if (bottom > covered + 1) uncovered += bottom - covered;
    return {
      rows: boxes.map(({ row }) => ({ id: row.dataset['callId']!, place: Number(row.getAttribute('aria-posinset')), size: Number(row.getAttribute('aria-setsize')) })),
      uncovered: Math.round(uncovered),
      drawn: drawn.length,
      scrollY: Math.round(scrollY),
    };
  });
}

/** The live row the keyboard focus is in. */
const focusedRow = (page: Page) =>
  page.evaluate(() => {
    const { document, innerHeight } = globalThis as unknown as PageWindow;
    const row = document.activeElement?.closest('[data-testid="live-row"]');
    if (!row) return undefined;
    const box = row.getBoundingClientRect();
    return { id: row.dataset['callId'], place: Number(row.getAttribute('aria-posinset')), visible: box.top >= 0 && box.bottom <= innerHeight };
  });

const HELLO_CALLS = 4500;
const REFUND_CALLS = 2100;

/**
 * Older, ended calls for history: HELLO_CALLS saying "hello", then, older still, REFUND_CALLS asking for a refund.
 * A search for "refund" has more candidates than storage fetches by key (2,000), so it reads the calls newest first
 * and stops after 5,000 without a match: its first page is empty, with a cursor.
 */
function endedCalls(): CallRecordWrite[] {
  const writes: CallRecordWrite[] = [];
  const start = Date.now() - 3 * 3_600_000;
  const add = (callId: string, at: number, text: string) => {
    writes.push(
      { kind: 'create', record: { callId, profile: 'default', callerNumber: '+14155550100', dialledNumber: '+18005551212', forwardedFrom: null, fromUri: null, sipCallId: null, twilioCallSid: null, conferenceName: null, acceptedAt: new Date(at), metadata: null } },
      { kind: 'lines', lines: [{ callId, seq: 0, speaker: 'caller', text, itemId: null, interrupted: false, placeholder: false, at: new Date(at + 500) }] },
      { kind: 'end', callId, end: { status: 'ended', endedAt: new Date(at + 1000), endReason: 'remote_closed' } },
    );
  };
  for (let i = 0; i < HELLO_CALLS; i++) add(`rtc_hello_${String(i).padStart(5, '0')}`, start - i * 1000, 'Hello, just checking in.');
  for (let i = 0; i < REFUND_CALLS; i++) add(`rtc_refund_${String(i).padStart(5, '0')}`, start - (HELLO_CALLS + i) * 1000, 'I would like a refund, please.');
  return writes;
}

describeBrowser('the console\'s long lists in Chromium', () => {
  let h: Harness;
  let browser: Browser;
  let page: Page;
  let liveIds: string[];
  let longCallId: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    h = await startHarness({ ADMIN_API_TOKEN: TOKEN });
    const seed = consoleSeed({ liveCalls: LIVE, longCallLines: LINES });
    ({ liveIds, longCallId } = seed);
    await h.app.get(CallRecordsRepository).write([...seed.writes, ...endedCalls()]);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const signIn = await context.request.post(`${h.baseUrl}/console/api/session`, { data: { token: TOKEN } });
    expect(signIn.status()).toBe(200);
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${h.baseUrl}/console/`);
    await page.locator(`[data-testid="live-row"][data-call-id="${liveIds[0]}"]`).waitFor({ timeout: 10_000 });
  }, 60_000);

  afterAll(async () => {
    expect(pageErrors).toEqual([]);
    await browser?.close();
    await h?.close();
  });

  it('draws a screenful of the 1,000 live calls, newest first, each row saying its place of 1,000', async () => {
    const screen = await onScreen(page);
    expect(screen.uncovered).toBe(0);
    expect(screen.rows[0]).toEqual({ id: liveIds[0], place: 1, size: LIVE });
    expect(screen.rows.map((r) => r.id)).toEqual(liveIds.slice(0, screen.rows.length));
    expect(screen.rows.length).toBeGreaterThan(10);
    // A window, not the whole list.
    expect(screen.drawn).toBeLessThan(100);
  });

  it('shows the right rows wherever the page is scrolled, with no gap on screen', async () => {
    const height = await page.evaluate(() => (globalThis as unknown as PageWindow).document.documentElement.scrollHeight);
    // The spacers stand for the rows not drawn: the page is as tall as 1,000 rows.
    expect(height).toBeGreaterThan(LIVE * 30);
    for (const fraction of [0.5, 0.25, 1, 0.75, 0]) {
      await page.evaluate((f) => {
        const w = globalThis as unknown as PageWindow;
        w.scrollTo(0, (w.document.documentElement.scrollHeight - w.innerHeight) * f);
      }, fraction);
      let screen: OnScreen | undefined;
      await eventually(async () => {
        screen = await onScreen(page);
        return screen.uncovered === 0 && screen.rows.length > 10;
      }, () => `the viewport covered by rows at ${fraction} of the page (last seen ${JSON.stringify(screen)})`);
      const places = screen!.rows.map((r) => r.place);
      // Consecutive places, each row the call at that place of the newest-first order.
      expect(places).toEqual(places.map((_, i) => places[0]! + i));
      expect(screen!.rows.map((r) => r.id)).toEqual(places.map((p) => liveIds[p - 1]));
      if (fraction === 1) expect(places.at(-1)).toBe(LIVE);
      if (fraction === 0) expect(places[0]).toBe(1);
      expect(screen!.drawn).toBeLessThan(100);
    }
  }, 30_000);

  it('moves the keyboard focus to rows not drawn: End, ArrowUp, Home', async () => {
    await page.locator(`[data-testid="live-row"][data-call-id="${liveIds[0]}"] a`).focus();
    await page.keyboard.press('End');
    await eventually(async () => (await focusedRow(page))?.id === liveIds[LIVE - 1], 'End focuses the last call');
    expect(await focusedRow(page)).toEqual({ id: liveIds[LIVE - 1], place: LIVE, visible: true });
    await page.keyboard.press('ArrowUp');
    await eventually(async () => (await focusedRow(page))?.id === liveIds[LIVE - 2], 'ArrowUp focuses the call above');
    await page.keyboard.press('Home');
    await eventually(async () => (await focusedRow(page))?.id === liveIds[0], 'Home focuses the first call');
    expect(await focusedRow(page)).toEqual({ id: liveIds[0], place: 1, visible: true });
    await page.keyboard.press('ArrowDown');
    await eventually(async () => (await focusedRow(page))?.id === liveIds[1], 'ArrowDown focuses the next call');
    // Enter follows the focused row's link.
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`/console/calls/${liveIds[1]}$`));
    await page.goBack();
    await page.locator(`[data-testid="live-row"][data-call-id="${liveIds[0]}"]`).waitFor({ timeout: 10_000 });
  }, 30_000);

  it('puts a call on top of the list as it is accepted, ticking, and takes it off live when it ends', async () => {
    await page.evaluate(() => (globalThis as unknown as PageWindow).scrollTo(0, 0));
    const { call } = await h.emulator.placeCall(h.webhookUrl, {
      from: '+14155550777',
      to: '+18005550199',
      script: script().pause(300).callerSays('Hello there').pause(2500).hangup(),
    });
    const row = page.locator(`[data-testid="live-row"][data-call-id="${call.callId}"]`);
    await row.waitFor({ timeout: 5000 });
    expect(await row.getAttribute('aria-posinset')).toBe('1');
    expect(await row.getAttribute('aria-setsize')).toBe(String(LIVE + 1));
    expect(await row.textContent()).toContain('+14155550777');
    const duration = row.locator('.c-duration');
    const first = await duration.textContent();
    await eventually(async () => (await duration.textContent()) !== first, 'its duration ticks');
    await row.waitFor({ state: 'detached', timeout: 10_000 });
    const screen = await onScreen(page);
    expect(screen.rows[0]).toEqual({ id: liveIds[0], place: 1, size: LIVE });
  }, 30_000);

  it('draws a long call a screenful first, and then every line in the document, in order', async () => {
    await page.goto(`${h.baseUrl}/console/calls/${longCallId}`);
    await page.locator('[data-testid="call-line"][data-seq="0"]').waitFor({ timeout: 10_000 });
    await eventually(async () => (await page.getByTestId('call-line').count()) === LINES, `all ${LINES} lines in the document`);
    const seqs = await page.getByTestId('call-line').evaluateAll((nodes) => nodes.map((n) => Number(n.getAttribute('data-seq'))));
    expect(seqs).toEqual(Array.from({ length: LINES }, (_, i) => i));
    expect(await page.locator('[data-testid="call-line"][data-seq="17"]').textContent()).toContain('[interrupted]');
    // The browser's find-in-page sees the last line: it is text in the document, not a placeholder.
    await page.locator(`[data-testid="call-line"][data-seq="${LINES - 1}"]`).scrollIntoViewIfNeeded();
    expect(await page.locator(`[data-testid="call-line"][data-seq="${LINES - 1}"]`).isVisible()).toBe(true);
  }, 30_000);

  it('says "none yet", not "none", when a search stops short of older calls, and searches on when asked', async () => {
    await page.goto(`${h.baseUrl}/console/history?q=refund`);
    await page.getByTestId('history-none-yet').waitFor({ timeout: 10_000 });
    expect(await page.getByText('No call matches.').count()).toBe(0);
    expect(await page.getByTestId('history-row').count()).toBe(0);
    const more = page.getByTestId('history-more');
    expect(await more.textContent()).toBe('Search older calls');
    await more.click();
    await page.getByTestId('history-row').first().waitFor({ timeout: 10_000 });
    const ids = await page.getByTestId('history-row').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-call-id')));
    // The newest refund calls, newest first, and nothing else.
    expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => `rtc_refund_${String(i).padStart(5, '0')}`));
    expect(await page.getByTestId('history-none-yet').count()).toBe(0);
    expect(await page.locator('[data-testid="history-row"] mark').first().textContent()).toBe('refund');
  }, 30_000);
});
