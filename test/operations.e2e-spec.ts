import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { FakeDiscord, OpenAIEmulator, newWebhookSecret, script } from '#emulator';
import { startHarness, TEST_API_KEY, type Harness } from './support/harness.js';
import { rememberSensitive } from './support/log-capture.js';
import { sample, scrape } from './support/metrics.js';
import { BUILT_MAIN, runBuiltBridge, listeningUrl, emulatorEnv } from './support/process.js';

describe('metrics', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('change as a scripted call runs: webhooks, accept latency, active calls, events, tools, transcript, end', async () => {
    h = await startHarness();
    const before = await scrape(h.baseUrl);
    expect(sample(before, 'bridge_active_calls')).toBe(0);
    expect(sample(before, 'bridge_webhook_requests_total', { outcome: 'accepted' })).toBe(0);

    const conversation = script()
      .callerSays('Hello, is anybody there?')
      .agentSays('Yes, how can I help?')
      .pause(300)
      .callerSays('That was all, goodbye.')
      .agentSays('Goodbye!')
      .toolCall('end_call', {})
      .expect('conversation.item.create')
      .hangup();
    const { call, delivery } = await h.emulator.placeCall(h.webhookUrl, { script: conversation });
    expect(delivery.status).toBe(200);
    await call.connected;
    const during = await scrape(h.baseUrl);
    expect(sample(during, 'bridge_active_calls')).toBe(1);
    expect(sample(during, 'bridge_webhook_requests_total', { outcome: 'accepted' })).toBe(1);
    expect(sample(during, 'bridge_webhook_accept_latency_seconds_count')).toBe(1);
    expect(sample(during, 'bridge_calls_accepted_total', { profile: 'default' })).toBe(1);

    await h.bus.waitFor('call.ended', (e) => e.callId === call.callId);
    await h.bus.waitFor('call.transcript.completed', (e) => e.callId === call.callId);
    // An unsigned webhook is counted too.
    await fetch(h.webhookUrl, { method: 'POST', body: '{}' });

    const after = await scrape(h.baseUrl);
    expect(sample(after, 'bridge_active_calls')).toBe(0);
    expect(sample(after, 'bridge_calls_ended_total', { reason: 'remote_closed' })).toBe(1);
    expect(sample(after, 'bridge_call_duration_seconds_count', { reason: 'remote_closed' })).toBe(1);
    expect(sample(after, 'bridge_realtime_events_total', { type: 'response.done' })).toBeGreaterThanOrEqual(2);
    expect(sample(after, 'bridge_realtime_events_total', { type: 'conversation.item.input_audio_transcription.completed' })).toBe(2);
    expect(sample(after, 'bridge_tool_invocations_total', { tool: 'end_call', status: 'succeeded' })).toBe(1);
    expect(sample(after, 'bridge_tool_duration_seconds_count', { tool: 'end_call' })).toBe(1);
    expect(sample(after, 'bridge_transcript_lines_total', { speaker: 'caller' })).toBe(2);
    expect(sample(after, 'bridge_transcript_lines_total', { speaker: 'agent' })).toBe(2);
    expect(sample(after, 'bridge_webhook_requests_total', { outcome: 'missing_header' }) + sample(after, 'bridge_webhook_requests_total', { outcome: 'invalid_signature' })).toBe(1);
    expect(sample(after, 'bridge_notification_queue_depth')).toBe(0);
    expect(after).toContain('process_resident_memory_bytes');
  });

  it('counts failed accepts by cause and sideband retries', async () => {
    h = await startHarness();
    const first = h.emulator.createCall();
    first.acceptFaults.push({ status: 500 }, { status: 500 });
    expect((await h.emulator.deliver(h.webhookUrl, JSON.stringify(h.emulator.incomingEvent(first)))).status).toBe(502);
    const second = h.emulator.createCall({ script: script().hangup() });
    second.handshake404s = 2;
    const body = JSON.stringify(h.emulator.incomingEvent(second));
    expect((await h.emulator.deliver(h.webhookUrl, body)).status).toBe(200);
    await h.bus.waitFor('call.ended', (e) => e.callId === second.callId);

    const metrics = await scrape(h.baseUrl);
    expect(sample(metrics, 'bridge_accept_failures_total', { cause: 'http_500' })).toBe(1);
    expect(sample(metrics, 'bridge_webhook_requests_total', { outcome: 'accept_failed' })).toBe(1);
    expect(sample(metrics, 'bridge_sideband_reconnects_total')).toBe(2);
  });

  it('need the bearer token when METRICS_TOKEN is set', async () => {
    const token = 'metrics-token-0123456789abcdef';
    h = await startHarness({ METRICS_TOKEN: token });
    expect((await fetch(`${h.baseUrl}/metrics`)).status).toBe(401);
    expect((await fetch(`${h.baseUrl}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789abcdef' } })).status).toBe(401);
    expect(sample(await scrape(h.baseUrl, token), 'bridge_active_calls')).toBe(0);
  });
});

describe('MAX_CONCURRENT_CALLS', () => {
  let h: Harness;
  afterAll(async () => h?.close());

  it('rejects a call beyond the limit with 486, counts and records it, and fails readiness while full', async () => {
    h = await startHarness({ MAX_CONCURRENT_CALLS: '1', ADMIN_API_TOKEN: 'admin-token-0123456789abcdef' });
    const first = await h.emulator.placeCall(h.webhookUrl, { script: script().pause(60_000).hangup() });
    expect(first.delivery.status).toBe(200);
    await first.call.connected;

    const ready = await fetch(`${h.baseUrl}/health/ready`);
    expect(ready.status).toBe(503);
    expect(JSON.stringify(await ready.json())).toContain('at capacity');

    const second = await h.emulator.placeCall(h.webhookUrl);
    expect(second.delivery.status).toBe(200);
    expect(h.emulator.requestsFor(second.call.callId, 'accept')).toHaveLength(0);
    const [reject] = h.emulator.requestsFor(second.call.callId, 'reject');
    expect(reject.body).toEqual({ status_code: 486 });
    await h.bus.waitFor('call.rejected', (e) => e.callId === second.call.callId && e.reason === 'at_capacity');
    expect(sample(await scrape(h.baseUrl), 'bridge_calls_rejected_total', { reason: 'at_capacity' })).toBe(1);

    // A caller who hung up before the rejection: acknowledged (200), not retried for ever with 502.
    const gone = h.emulator.createCall();
    gone.hangUp();
    expect((await h.emulator.deliver(h.webhookUrl, JSON.stringify(h.emulator.incomingEvent(gone)))).status).toBe(200);
    await h.bus.waitFor('call.rejected', (e) => e.callId === gone.callId && e.reason === 'caller_gone');

    // The rejection is on the record.
    let record: { status?: string; endReason?: string } = {};
    for (let i = 0; i < 50 && record.status !== 'rejected'; i++) {
      const response = await fetch(`${h.baseUrl}/calls/${second.call.callId}`, { headers: { authorization: 'Bearer admin-token-0123456789abcdef' } });
      if (response.status === 200) record = (await response.json()) as typeof record;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(record).toMatchObject({ status: 'rejected', endReason: 'at_capacity' });

    // Room again once the first call ends.
    first.call.hangUp();
    await h.bus.waitFor('call.ended', (e) => e.callId === first.call.callId);
    expect((await fetch(`${h.baseUrl}/health/ready`)).status).toBe(200);
    const third = await h.emulator.placeCall(h.webhookUrl, { script: script().hangup() });
    expect(h.emulator.requestsFor(third.call.callId, 'accept')).toHaveLength(1);
  });
});

const describeBuilt = existsSync(BUILT_MAIN) ? describe : describe.skip;

describeBuilt('graceful drain of the built process', () => {
  const secret = newWebhookSecret();
  let emulator: OpenAIEmulator;
  let discord: FakeDiscord;
  beforeAll(async () => {
    emulator = await new OpenAIEmulator({ apiKey: TEST_API_KEY, webhookSecret: secret }).start();
    discord = await new FakeDiscord().start();
  });
  afterAll(async () => {
    await emulator.stop();
    await discord.stop();
  });

  function lines(output: string): Array<Record<string, unknown>> {
    return output.split('\n').flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  it('SIGTERM with two active calls: readiness flips, new webhooks get 503, the calls finish, the outbox is flushed, exit 0', async () => {
    const discordUrl = discord.webhookUrl();
    rememberSensitive('secret', [discordUrl, secret]);
    const bridge = runBuiltBridge({
      ...emulatorEnv(emulator, TEST_API_KEY, secret),
      DISCORD_WEBHOOK_URL: discordUrl,
      SHUTDOWN_DRAIN_SECONDS: '30',
    });
    try {
      const url = await listeningUrl(bridge);
      const talk = (ms: number) => script().callerSays('I have a question about my bill.').agentSays('Sure, one moment.').pause(ms).agentSays('All done, goodbye.').hangup();
      const one = await emulator.placeCall(`${url}/openai/webhook`, { script: talk(1500) });
      const two = await emulator.placeCall(`${url}/openai/webhook`, { script: talk(2500) });
      await Promise.all([one.call.connected, two.call.connected]);

      bridge.child.kill('SIGTERM');
      await bridge.waitForOutput(/readiness now fails/);
      expect((await fetch(`${url}/health/ready`)).status).toBe(503);
      expect((await fetch(`${url}/health`)).status).toBe(200);
      const late = await emulator.placeCall(`${url}/openai/webhook`);
      expect(late.delivery.status).toBe(503);
      expect(emulator.requestsFor(late.call.callId, 'accept')).toHaveLength(0);

      // Both calls run to their own end: OpenAI closes them (1000), the bridge never does (1001).
      expect(await one.call.ended).toEqual({ code: 1000, by: 'caller' });
      expect(await two.call.ended).toEqual({ code: 1000, by: 'caller' });
      const exit = await bridge.exited;
      expect(exit).toEqual({ code: 0, signal: null });

      const log = lines(bridge.output());
      const ends = log.filter((l) => String(l.msg).startsWith('call ended: remote_closed (close 1000')).map((l) => l.callId);
      expect(ends.sort()).toEqual([one.call.callId, two.call.callId].sort());
      expect(log.some((l) => String(l.msg).startsWith('drained: every call ended'))).toBe(true);
      // The outbox was flushed before exit: both calls' summaries reached Discord.
      const posted = discord.messages.map((m) => m.content + m.files.map((f) => f.content).join('')).join('\n');
      expect(posted).toContain('Agent: All done, goodbye.');
      expect(discord.messages.filter((m) => /Call ended/i.test(m.content)).length).toBeGreaterThanOrEqual(2);
    } finally {
      bridge.child.kill('SIGKILL');
    }
  });

  it('a call that outlasts SHUTDOWN_DRAIN_SECONDS is closed (1001) and the process still exits 0', async () => {
    const bridge = runBuiltBridge({
      ...emulatorEnv(emulator, TEST_API_KEY, secret),
      SHUTDOWN_DRAIN_SECONDS: '1',
    });
    try {
      const url = await listeningUrl(bridge);
      const { call } = await emulator.placeCall(`${url}/openai/webhook`, { script: script().pause(60_000).hangup() });
      await call.connected;
      const started = Date.now();
      bridge.child.kill('SIGTERM');
      expect(await call.ended).toEqual({ code: 1001, by: 'bridge' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      expect(await bridge.exited).toEqual({ code: 0, signal: null });
      expect(lines(bridge.output()).some((l) => l.callId === call.callId && String(l.msg).startsWith('call ended: shutdown (close 1001'))).toBe(true);
    } finally {
      bridge.child.kill('SIGKILL');
    }
  });
});
