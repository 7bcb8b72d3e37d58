import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { script } from '#emulator';
import { CallEventsWriter, CONSOLE_CSP } from '#console';
import { CallRecordWriter } from '#transcripts';
import { startHarness, type Harness } from './support/harness.js';
import { SseClient } from './support/sse.js';

// The console's back end over real HTTP: sign-in, sessions and CSRF, the records API with a session, the live feed
// (SSE) with resume, a call's story, search, exports, statistics, and the console's pages. The browser suite
// (console-browser.e2e-spec.ts) drives the same through Chromium.

const TOKEN = 'console-admin-token-0123456789';
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are asserted field by field
type Json = any;

interface Timeline { type: string; callId?: string; item?: Json; call?: Json }

describe('console API', () => {
  let h: Harness;
  let cookie: string;
  let csrf: string;
  const origin = () => h.baseUrl;

  const signIn = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${h.baseUrl}/console/api/session`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  const get = (path: string, headers: Record<string, string> = { cookie }) => fetch(`${h.baseUrl}${path}`, { headers });
  const flush = async () => {
    await h.app.get(CallRecordWriter).flush();
    await h.app.get(CallEventsWriter).flush();
  };

  beforeAll(async () => {
    h = await startHarness({ ADMIN_API_TOKEN: TOKEN, SIGNIN_MAX_FAILURES: '3' });
    const response = await signIn(JSON.stringify({ token: TOKEN }));
    expect(response.status).toBe(200);
    cookie = response.headers.get('set-cookie')!.split(';')[0];
    csrf = ((await response.json()) as Json).csrfToken;
  });
  afterAll(async () => h.close());

  describe('sign-in', () => {
    it('gives a right token a signed HttpOnly SameSite=Strict session cookie, never the token', async () => {
      const response = await signIn(JSON.stringify({ token: TOKEN }), { origin: origin() });
      expect(response.status).toBe(200);
      const setCookie = response.headers.get('set-cookie')!;
      expect(setCookie).toMatch(/^console_session=v1\.[\w-]+\.[\w-]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=28800$/);
      expect(setCookie).not.toContain('Secure');
      expect(response.headers.get('cache-control')).toBe('no-store');
      const body = (await response.json()) as Json;
      expect(body).toEqual({ role: 'admin', csrfToken: expect.any(String), expiresAt: expect.any(String) });
      expect(JSON.stringify(body) + setCookie).not.toContain(TOKEN);
      const session = await get('/console/api/session', { cookie: setCookie.split(';')[0] });
      expect(session.status).toBe(200);
      expect(((await session.json()) as Json).csrfToken).toBe(body.csrfToken);
    });

    it('marks the cookie Secure behind an HTTPS proxy only when TRUST_PROXY believes it', async () => {
      const untrusted = await signIn(JSON.stringify({ token: TOKEN }), { 'x-forwarded-proto': 'https' });
      expect(untrusted.headers.get('set-cookie')).not.toContain('Secure');
      const trusting = await startHarness({ ADMIN_API_TOKEN: TOKEN, TRUST_PROXY: 'loopback' });
      try {
        const trusted = await fetch(`${trusting.baseUrl}/console/api/session`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' },
          body: JSON.stringify({ token: TOKEN }),
        });
        expect(trusted.headers.get('set-cookie')).toMatch(/; Secure$/);
      } finally {
        await trusting.close();
      }
    });

    it.each([
      ['not JSON', '{token'],
      ['no token', '{}'],
      ['a number', '{"token": 5}'],
      ['too large', JSON.stringify({ token: 'x'.repeat(5000) })],
    ])('answers 400 to a body that is %s', async (_name, body) => {
      const response = await signIn(body);
      expect(response.status).toBe(400);
      expect(response.headers.get('set-cookie')).toBeNull();
    });

    it('refuses a sign-in posted from another site', async () => {
      const response = await signIn(JSON.stringify({ token: TOKEN }), { origin: 'https://evil.example' });
      expect(response.status).toBe(403);
      expect(response.headers.get('set-cookie')).toBeNull();
    });

    it('answers 401 to a missing, tampered or foreign cookie', async () => {
      const [name, value] = cookie.split('=');
      const [version, payload, signature] = value.split('.');
      const elevated = Buffer.from(JSON.stringify({ r: 'admin', e: Date.now() + 1e9, n: 'n' })).toString('base64url');
      for (const bad of ['', `${name}=${version}.${elevated}.${signature}`, `${name}=${version}.${payload}.${signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'))}`, `${name}=garbage`]) {
        for (const path of ['/console/api/session', '/calls', '/console/api/feed', '/console/api/stats']) {
          const response = await get(path, bad ? { cookie: bad } : {});
          expect([path, response.status]).toEqual([path, 401]);
        }
      }
    });

    it('rate-limits wrong tokens per client, and then refuses even the right one until the window passes', async () => {
      const limited = await startHarness({ ADMIN_API_TOKEN: TOKEN, SIGNIN_MAX_FAILURES: '2', SIGNIN_WINDOW_SECONDS: '60' });
      try {
        const attempt = (token: string) =>
          fetch(`${limited.baseUrl}/console/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
        expect((await attempt('wrong-token-000000000000')).status).toBe(401);
        expect((await attempt('wrong-token-111111111111')).status).toBe(401);
        const refused = await attempt(TOKEN);
        expect(refused.status).toBe(429);
        expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(50);
        expect(refused.headers.get('set-cookie')).toBeNull();
      } finally {
        await limited.close();
      }
    });
  });

  describe('a state change with the cookie needs the CSRF token and our origin', () => {
    it('refuses sign-out without the token, with a wrong one, or from another origin; accepts ours', async () => {
      const signOut = (headers: Record<string, string>) => fetch(`${h.baseUrl}/console/api/session`, { method: 'DELETE', headers: { cookie, ...headers } });
      expect((await signOut({})).status).toBe(403);
      expect((await signOut({ 'x-csrf-token': csrf.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) })).status).toBe(403);
      expect((await signOut({ 'x-csrf-token': csrf, origin: 'https://evil.example' })).status).toBe(403);
      expect((await signOut({ 'x-csrf-token': csrf, 'sec-fetch-site': 'cross-site' })).status).toBe(403);
      expect((await signOut({ 'x-csrf-token': csrf, origin: 'null' })).status).toBe(403);
      // Behind a proxy that terminates TLS the page's origin is https although the request arrives as http.
      const ok = await signOut({ 'x-csrf-token': csrf, origin: origin().replace('http:', 'https:') });
      expect(ok.status).toBe(204);
      expect(ok.headers.get('set-cookie')).toMatch(/^console_session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0/);
    });
  });

  describe('a live call, watched', () => {
    let callId: string;
    let first: SseClient;
    let resumed: SseClient;

    afterAll(async () => {
      await first?.close();
      await resumed?.close();
    });

    it('appears on the feed when accepted, streams its lines and items, and resumes after a reconnect without a gap', async () => {
      first = await SseClient.open(`${h.baseUrl}/console/api/feed`, { cookie });
      expect(first.status).toBe(200);
      expect(first.headers!.get('content-type')).toBe('text/event-stream; charset=utf-8');
      await first.waitForJson<Timeline>((e) => e.type === 'hello');

      const { call } = await h.emulator.placeCall(h.webhookUrl, {
        from: '+14155550111',
        script: script()
          .callerSays('I would like to check my parcel order')
          .agentSays('Sure, what is the order number?')
          .pause(300)
          .dtmf('42')
          .pause(50)
          .callerSays('It is seven seven three')
          .pause(50)
          .error('invalid_event', 'That event was not valid.')
          .pause(50)
          .agentSays('Thanks, one moment.')
          .pause(300)
          .callerSays('Thank you')
          .agentSays('Goodbye')
          .hangup(),
      });
      callId = call.callId;
      const appeared = await first.waitForJson<Timeline>((e) => e.type === 'call' && e.call.callId === callId);
      expect(appeared.call).toMatchObject({ status: 'active', profile: 'default', callerNumber: '+14155550111', endedAt: null });
      // Drop the stream after the first line; the call goes on; reconnect with the last id seen.
      await first.waitForJson<Timeline>((e) => e.type === 'timeline' && e.callId === callId && e.item.kind === 'line');
      const lastSeen = first.lastEventId!;
      await first.close();
      const beforeDrop = first.json<Timeline>();
      await h.bus.waitFor('call.transcript.completed', (e) => e.callId === callId, 10_000);
      resumed = await SseClient.open(`${h.baseUrl}/console/api/feed`, { cookie, 'last-event-id': lastSeen });
      await resumed.waitForJson<Timeline>((e) => e.type === 'call' && e.call.callId === callId && e.call.status === 'ended');

      const all = [...beforeDrop, ...resumed.json<Timeline>()].filter((e) => e.callId === callId || e.call?.callId === callId);
      const lines = all.filter((e) => e.item?.kind === 'line').map((e) => `${e.item.seq} ${e.item.speaker}: ${e.item.text}`);
      expect(lines).toEqual([
        '0 caller: I would like to check my parcel order',
        '1 agent: Sure, what is the order number?',
        '2 caller: It is seven seven three',
        '3 agent: Thanks, one moment.',
        '4 caller: Thank you',
        '5 agent: Goodbye',
      ]);
      const ids = [...first.messages, ...resumed.messages].map((m) => m.id).filter(Boolean);
      expect(new Set(ids).size).toBe(ids.length);
      expect(all.filter((e) => e.item?.kind === 'dtmf').map((e) => e.item.key)).toEqual(['4', '2']);
      expect(all.filter((e) => e.item?.kind === 'error').map((e) => e.item.message)).toEqual(['That event was not valid.']);
      expect(all.filter((e) => e.item?.kind === 'end').map((e) => e.item.reason)).toEqual(['remote_closed']);
    });

    it('tells a console whose id is too old or unknown to reset, instead of handing it a gap', async () => {
      const stale = await SseClient.open(`${h.baseUrl}/console/api/feed`, { cookie, 'last-event-id': '00000000-5' });
      expect(await stale.waitForJson<Timeline>(() => true)).toEqual({ type: 'reset' });
      await stale.close();
    });

    it('serves the ended call from storage: the same story, in order, with its keys, error and end', async () => {
      await flush();
      const story = (await get(`/calls/${callId}/timeline`).then((r) => r.json())) as Json;
      expect(story.call).toMatchObject({ callId, status: 'ended', endReason: 'remote_closed' });
      const kinds = story.items.map((i: Json) => (i.kind === 'line' ? `line${i.seq}` : i.kind === 'dtmf' ? `dtmf${i.key}` : i.kind));
      expect(kinds).toEqual(['line0', 'line1', 'dtmf4', 'dtmf2', 'line2', 'error', 'line3', 'line4', 'line5', 'end']);
    });

    it('finds the call by a word of its transcript, with the matching line highlighted', async () => {
      const found = (await get('/calls?q=parcel').then((r) => r.json())) as Json;
      expect(found.calls.map((c: Json) => c.callId)).toEqual([callId]);
      const match = found.calls[0].match;
      expect(match.text).toBe('I would like to check my parcel order');
      expect(match.highlights.map(([s, e]: [number, number]) => match.text.slice(s, e).toLowerCase())).toEqual(['parcel']);
      expect(found.calls[0].lastLine).toMatchObject({ seq: 5, text: 'Goodbye' });
      for (const hostile of ['"', 'parcel OR', 'NEAR(a b)', '*', "'; drop table calls; --", '(((', 'parcel:order']) {
        const response = await get(`/calls?q=${encodeURIComponent(hostile)}`);
        expect([hostile, response.status]).toEqual([hostile, 200]);
      }
      expect(((await get('/calls?q=nosuchwordanywhere').then((r) => r.json())) as Json).calls).toEqual([]);
    });

    it('exports the call as JSON, CSV and text, and the list as CSV', async () => {
      const json = await get(`/calls/${callId}/export?format=json`);
      expect(json.headers.get('content-disposition')).toBe(`attachment; filename="call-${callId}.json"`);
      expect(((await json.json()) as Json).items).toHaveLength(10);
      const csv = await get(`/calls/${callId}/export?format=csv`);
      expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      const rows = (await csv.text()).trim().split('\r\n');
      expect(rows[0]).toBe('at,kind,seq,speaker,text,status,detail');
      expect(rows).toHaveLength(11);
      const text = await (await get(`/calls/${callId}/export?format=text`)).text();
      expect(text).toContain('Caller: I would like to check my parcel order\nAgent: Sure, what is the order number?\n[key 4]');
      expect(text).toContain('[ended: remote_closed]');
      expect((await get(`/calls/${callId}/export?format=pdf`)).status).toBe(400);

      const list = await get('/calls/export.csv?state=ended&number=%2B14155550111');
      expect(list.headers.get('content-disposition')).toBe('attachment; filename="calls.csv"');
      const listRows = (await list.text()).trim().split('\r\n');
      expect(listRows[0]).toBe('callId,status,profile,callerNumber,dialledNumber,forwardedFrom,acceptedAt,endedAt,durationSeconds,endReason');
      expect(listRows.slice(1).map((r) => r.split(',')[0])).toEqual([callId]);
    });

    it('counts the call in the statistics', async () => {
      const stats = (await get('/console/api/stats?window=24h').then((r) => r.json())) as Json;
      expect(stats).toMatchObject({ window: '24h', bucketMs: 3_600_000, total: expect.any(Number), transferRate: 0 });
      expect(stats.buckets).toHaveLength(24);
      const outcomes = stats.buckets.flatMap((b: Json) => Object.entries(b.outcomes));
      expect(outcomes).toContainEqual(['remote_closed', expect.any(Number)]);
      expect(stats.firstAgentLineP95Ms).toEqual(expect.any(Number));
      expect(stats.durations.counts.reduce((a: number, b: number) => a + b, 0)).toBeGreaterThanOrEqual(1);
    });

    it('shows a tool run live (running, then its result) and the same run, with its duration, from storage', async () => {
      const feed = await SseClient.open(`${h.baseUrl}/console/api/feed`, { cookie });
      try {
        await feed.waitForJson<Timeline>((e) => e.type === 'hello');
        const { call } = await h.emulator.placeCall(h.webhookUrl, {
          script: script()
            .callerSays("That's all, thanks.")
            .toolCall('end_call', { reason: 'caller is done' }, { callId: 'call_console_end' })
            .expect('response.create')
            .agentSays('Thanks for calling, goodbye!', { playback: true })
            .pause(100)
            .playbackStopped(),
        });
        await feed.waitForJson<Timeline>((e) => e.type === 'call' && e.call.callId === call.callId && e.call.status === 'ended', 10_000);
        const live = feed.json<Timeline>().filter((e) => e.callId === call.callId && e.item?.kind === 'tool').map((e) => e.item);
        expect(live.map((i: Json) => i.status)).toEqual(['running', 'succeeded']);
        expect(live[1]).toMatchObject({ toolCallId: 'call_console_end', name: 'end_call', durationMs: expect.any(Number) });
        expect(JSON.parse(live[1].arguments)).toEqual({ reason: 'caller is done' });
        expect(JSON.parse(live[1].result)).toMatchObject({ status: 'ending_call' });
        await flush();
        const story = (await get(`/calls/${call.callId}/timeline`).then((r) => r.json())) as Json;
        const stored = story.items.filter((i: Json) => i.kind === 'tool');
        expect(stored).toEqual([expect.objectContaining({ toolCallId: 'call_console_end', name: 'end_call', status: 'succeeded', durationMs: expect.any(Number) })]);
        expect(story.items.map((i: Json) => i.kind)).toEqual(['line', 'tool', 'line', 'end']);
      } finally {
        await feed.close();
      }
    });

    it('answers a bearer token as before, without a session', async () => {
      expect((await get(`/calls/${callId}`, { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
      expect((await get(`/calls/${callId}/timeline`, { authorization: 'Bearer wrong-token-0000000000' })).status).toBe(401);
    });
  });

  describe('bad input gets a clear 4xx', () => {
    it.each([
      '/calls?state=bogus',
      '/calls?endReason=Not%20A%20Reason',
      `/calls?q=${'x'.repeat(201)}`,
      '/calls?cursor=%21%21',
      '/console/api/stats?window=1y',
      '/console/api/feed?lastEventId=..%2F..%2Fetc',
      '/console/api/feed?callId=%3Cscript%3E',
      '/calls/export.csv?from=yesterday',
    ])('%s → 400', async (path) => {
      expect((await get(path)).status).toBe(400);
    });
  });

  describe('the console pages', () => {
    const built = existsSync('dist/console/index.html');

    it('is built (npm run build makes dist/console; npm test builds first)', () => {
      expect(built).toBe(true);
    });

    it('serves the application under a strict CSP for every page path, and 404 for unknown assets and API routes', async () => {
      for (const path of ['/console', '/console/', '/console/calls/rtc_x', '/console/history', '/console/no/such/page']) {
        const response = await fetch(`${h.baseUrl}${path}`);
        expect([path, response.status]).toEqual([path, 200]);
        expect(response.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
        expect(response.headers.get('x-frame-options')).toBe('DENY');
        const html = await response.text();
        expect(html).toContain('<div id="app">');
        expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
        expect(html).not.toMatch(/\sstyle=/);
      }
      for (const path of ['/console/assets/nope.js', '/console/assets/..%2F..%2Fpackage.json', '/console/api/nope']) {
        expect([path, (await fetch(`${h.baseUrl}${path}`)).status]).toEqual([path, 404]);
      }
      const html = await (await fetch(`${h.baseUrl}/console/`)).text();
      const script = /<script[^>]*src="([^"]+)"/.exec(html)![1];
      const asset = await fetch(`${h.baseUrl}${script}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    });

    it('does not exist without ADMIN_API_TOKEN', async () => {
      const off = await startHarness({});
      try {
        for (const path of ['/console', '/console/calls/x', '/console/api/session', '/calls']) {
          expect([path, (await fetch(`${off.baseUrl}${path}`)).status]).toEqual([path, 404]);
        }
      } finally {
        await off.close();
      }
    });
  });
});
