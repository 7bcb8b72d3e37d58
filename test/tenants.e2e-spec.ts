import { existsSync, mkdirSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FakeDiscord, OpenAIEmulator, newWebhookSecret, script, type ConversationScript, type EmulatedCall } from '#emulator';
import { EventBus, type BridgeEvents } from '#events';
import { Notifications } from '#notifications';
import { withTimeout } from '#resilience';
import { TenantProfiles, type ReloadOutcome } from '#tenants';
import { CallRecordWriter } from '#transcripts';
import { startHarness, TEST_API_KEY, type Harness } from './support/harness.js';
import { BUILT_DEMO, BUILT_MAIN, runBuilt, runBuiltBridge, listeningUrl, waitForPendingOutbox, emulatorEnv } from './support/process.js';

const TOKEN = 'tenants-e2e-admin-token-0123456789';
const ACME = '+18005551212';
const GLOBEX = '+18005553434';
const UNKNOWN = '+18005559999';

/**
 * A directory laid out as Kubernetes mounts a ConfigMap: every key is a symlink into `..data`, itself a symlink to a
 * timestamped directory; an update writes a new directory and swaps `..data` by renaming a new symlink over it.
 */
class ConfigMapDirectory {
  readonly dir = mkdtempSync(join(tmpdir(), 'tenants-configmap-'));
  private version = 0;

  get tenantsFile(): string {
    return join(this.dir, 'tenants.yaml');
  }

  publish(files: Record<string, string>): void {
    const version = `..2026_11_21_v${++this.version}`;
    mkdirSync(join(this.dir, version));
    for (const [name, content] of Object.entries(files)) writeFileSync(join(this.dir, version, name), content);
    symlinkSync(version, join(this.dir, '..data_tmp'));
    renameSync(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    for (const name of Object.keys(files)) {
      if (!existsSync(join(this.dir, name))) symlinkSync(join('..data', name), join(this.dir, name));
    }
  }
}

function tenantsYaml(acmeWebhook: string, acme: { voice: string; instructions: string; tools: string; notifications: string }): string {
  return `
# Two tenants on one deployment; calls to other numbers are refused.
unmatched: { action: reject, status: 486 }
profiles:
  acme:
    match:
      dialled: ["+1 (800) 555-1212"]
    instructions: ${JSON.stringify(acme.instructions)}
    knowledge:
      - title: Opening hours
        text: Acme is open Monday to Friday, 8 am to 6 pm.
      - file: acme-returns.md
    voice: ${acme.voice}
    welcomeMessage: Thanks for calling Acme!
    tools: ${acme.tools}
    transfer: { humanAgentNumber: "+14155550100" }
    notifications: ${acme.notifications.replace('ACME_WEBHOOK', acmeWebhook)}
    metadata: { customer: acme, plan: gold }
  globex:
    match:
      dialled: ["${GLOBEX}"]
      forwardedFrom: ["+14155550999"]
    instructions: You take messages for Globex.
    voice: sage
    turnDetection: server_vad
    transcription: { language: de }
    tools: [end_call]
`;
}

const V1 = {
  voice: 'cedar',
  instructions: 'You answer the phone for Acme Tools.',
  tools: '[end_call, transfer_to_human]',
  notifications: '{ discord: "ACME_WEBHOOK" }',
};
const RETURNS = 'Returns are free within 30 days of delivery.\n';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- accept bodies are asserted field by field
const acceptOf = (h: Harness, call: EmulatedCall): Record<string, any> => h.emulator.requestsFor(call.callId, 'accept')[0]?.body as Record<string, any>;
const toolNames = (body: { tools?: Array<{ name: string }> }) => (body.tools ?? []).map((t) => t.name);

/** The promise, or a failure after a few seconds (a reload that never comes must not hang the suite). */
function within<T>(promise: Promise<T>, what: string, timeoutMs = 5000): Promise<T> {
  return withTimeout(promise, timeoutMs, { message: `no ${what} within ${timeoutMs} ms` });
}

/** Plays a script's server events on a call that has no script of its own, now. */
function play(call: EmulatedCall, conversation: ConversationScript): void {
  for (const step of conversation.steps) if (step.kind === 'send') call.send(step.event);
}

/** The tool output the bridge sent for a function call (it reaches the emulator just after tool.completed). */
async function outputOf(call: EmulatedCall, toolCallId: string): Promise<{ error?: { code: string; message: string }; status?: string }> {
  const find = () => call.clientEvents.find((e) => e.type === 'conversation.item.create' && (e.item as { call_id?: string }).call_id === toolCallId);
  for (let waited = 0; !find() && waited < 5000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  const event = find();
  if (!event) throw new Error(`no function_call_output for ${toolCallId}`);
  return JSON.parse((event.item as { output: string }).output);
}

describe('per-number agents (TENANTS_FILE)', () => {
  let h: Harness;
  let discord: FakeDiscord;
  let defaultWebhook: string;
  let acmeWebhook: string;
  let tenants: TenantProfiles;
  const configMap = new ConfigMapDirectory();
  const completed: Array<BridgeEvents['tool.completed']> = [];

  const records = (query: string) =>
    fetch(`${h.baseUrl}/calls${query}`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.json() as Promise<{ calls: Array<Record<string, unknown>> }>);

  async function finished(call: EmulatedCall): Promise<void> {
    await h.bus.waitFor('call.transcript.completed', (e) => e.callId === call.callId);
    await h.app.get(CallRecordWriter).flush();
    await h.app.get(Notifications).idle();
  }

  /** Makes a change to the files, and returns what the reload it causes did (a no-op reload does not count). */
  async function reloadAfter(change: () => void): Promise<ReloadOutcome> {
    const deadline = Date.now() + 5000;
    let next = tenants.nextReload();
    change();
    for (;;) {
      const outcome = await within(next, 'a reload', Math.max(1, deadline - Date.now()));
      if (outcome.kind !== 'unchanged') return outcome;
      next = tenants.nextReload();
    }
  }

  async function toolRun(callId: string, toolCallId: string) {
    for (let waited = 0; waited < 5000; waited += 10) {
      const run = completed.find((e) => e.callId === callId && e.toolCallId === toolCallId);
      if (run) return run;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`tool run ${toolCallId} did not complete`);
  }

  beforeAll(async () => {
    discord = await new FakeDiscord().start();
    defaultWebhook = discord.webhookUrl('team');
    acmeWebhook = discord.webhookUrl('acme');
    configMap.publish({ 'tenants.yaml': tenantsYaml(acmeWebhook, V1), 'acme-returns.md': RETURNS });
    h = await startHarness({
      TENANTS_FILE: configMap.tenantsFile,
      ADMIN_API_TOKEN: TOKEN,
      DISCORD_WEBHOOK_URL: defaultWebhook,
      END_CALL_MAX_WAIT_MS: '200',
      TRANSFER_TIMEOUT_MS: '700',
    });
    tenants = h.app.get(TenantProfiles);
    h.app.get(EventBus).on('tool.completed', (e) => completed.push(e));
  });

  afterAll(async () => {
    await h?.close();
    await discord.stop();
  });

  it('answers two numbers with two different agents: instructions and knowledge, voice, tools, greeting', async () => {
    const { call: acme } = await h.emulator.placeCall(h.webhookUrl, { to: ACME, script: script().expect('response.create').hangup() });
    const { call: globex } = await h.emulator.placeCall(h.webhookUrl, { to: GLOBEX, script: script().hangup() });
    await Promise.all([finished(acme), finished(globex)]);

    const a = acceptOf(h, acme);
    expect(a.instructions).toMatch(/^You answer the phone for Acme Tools\.\n\n## Knowledge\n/);
    expect(a.instructions).toContain('### Opening hours\nAcme is open Monday to Friday, 8 am to 6 pm.');
    expect(a.instructions).toContain('### acme-returns.md\nReturns are free within 30 days of delivery.');
    expect(a.audio).toMatchObject({ output: { voice: 'cedar' }, input: { turn_detection: { type: 'semantic_vad' } } });
    // HUMAN_AGENT_NUMBER is not set: transfer_to_human is offered because the profile has its own target.
    expect(toolNames(a)).toEqual(['end_call', 'transfer_to_human']);
    expect(acme.clientEvents[0]).toMatchObject({ type: 'response.create', response: { instructions: expect.stringContaining('Thanks for calling Acme!') } });

    const g = acceptOf(h, globex);
    expect(g.instructions).toBe('You take messages for Globex.');
    expect(g.audio).toMatchObject({
      output: { voice: 'sage' },
      input: { turn_detection: { type: 'server_vad' }, transcription: { model: 'gpt-4o-mini-transcribe', language: 'de' } },
    });
    expect(toolNames(g)).toEqual(['end_call']);
    expect(globex.clientEvents.filter((e) => e.type === 'response.create')).toEqual([]); // no greeting configured

    // The profile is on each call record, with its metadata, and the records API filters by it.
    const acmeRecords = await records('?profile=acme');
    expect(acmeRecords.calls).toEqual([expect.objectContaining({ callId: acme.callId, profile: 'acme', metadata: { customer: 'acme', plan: 'gold' } })]);
    expect((await records('?profile=globex')).calls).toEqual([expect.objectContaining({ callId: globex.callId, profile: 'globex', metadata: null })]);

    // Each announcement names the agent; acme's calls go to acme's own webhook instead of the deployment's.
    const acmeMessages = discord.messagesFor('acme').map((m) => m.content).join('\n');
    expect(acmeMessages).toMatch(/📞 \*\*Incoming call\*\* from \+14155550123 to \+18005551212 \(agent: acme\)/);
    expect(acmeMessages).toContain(acme.callId.slice(-6));
    const teamMessages = discord.messagesFor('team').map((m) => m.content).join('\n');
    expect(teamMessages).toMatch(/📞 \*\*Incoming call\*\* from \+14155550123 to \+18005553434 \(agent: globex\)/);
    expect(teamMessages).not.toContain(acme.callId.slice(-6));
    expect(acmeMessages).not.toContain(globex.callId.slice(-6));
  });

  it("runs the tools a call's profile offers, with the profile's transfer target, and refuses the others", async () => {
    const { call: acme } = await h.emulator.placeCall(h.webhookUrl, { to: ACME });
    await acme.connected;
    play(acme, script().toolCall('transfer_to_human', { reason: 'wants a person' }, { callId: 'call_xfer' }));
    expect((await within(acme.ended, 'the transfer')).by).toBe('refer');
    expect(h.emulator.requestsFor(acme.callId, 'refer').map((r) => r.body)).toEqual([{ target_uri: 'tel:+14155550100' }]);

    const { call: globex } = await h.emulator.placeCall(h.webhookUrl, { to: GLOBEX });
    await globex.connected;
    play(globex, script().toolCall('transfer_to_human', {}, { callId: 'call_not_here' }));
    expect(await toolRun(globex.callId, 'call_not_here')).toMatchObject({ status: 'unknown_tool' });
    // This deployment offers no transfer of its own: for globex's calls the tool does not exist.
    expect((await outputOf(globex, 'call_not_here')).error).toEqual({
      code: 'unknown_tool',
      message: 'There is no tool called "transfer_to_human". Tools: end_call.',
    });
    expect(h.emulator.requestsFor(globex.callId, 'refer')).toEqual([]);
    globex.hangUp();
    await finished(globex);
  });

  it('answers a forwarded call with the profile of the number it was forwarded from', async () => {
    const { call } = await h.emulator.placeCall(h.webhookUrl, {
      to: '+18005550000',
      sipHeaders: [{ name: 'Diversion', value: '<sip:+14155550999@carrier.example>;reason=unconditional' }],
      script: script().hangup(),
    });
    expect(acceptOf(h, call).instructions).toBe('You take messages for Globex.');
    expect((await h.bus.waitFor('call.accepted', (e) => e.callId === call.callId)).profile).toBe('globex');
    await finished(call);
  });

  it('rejects a number no profile answers with the configured SIP status, records it and announces it', async () => {
    const { call, delivery } = await h.emulator.placeCall(h.webhookUrl, { to: UNKNOWN });
    expect(delivery.status).toBe(200);
    expect(h.emulator.requestsFor(call.callId).map((r) => [r.action, r.body, r.status])).toEqual([['reject', { status_code: 486 }, 200]]);
    expect(h.emulator.handshakes.filter((s) => s.callId === call.callId)).toEqual([]);
    expect(await h.bus.waitFor('call.rejected', (e) => e.callId === call.callId)).toMatchObject({ reason: 'unknown_number', statusCode: 486 });

    // A retry of the same webhook changes nothing.
    const again = await h.emulator.deliver(h.webhookUrl, JSON.stringify(h.emulator.incomingEvent(call)));
    expect(again.status).toBe(200);
    expect(h.emulator.requestsFor(call.callId)).toHaveLength(1);

    await h.app.get(CallRecordWriter).flush();
    await h.app.get(Notifications).idle();
    const record = await fetch(`${h.baseUrl}/calls/${call.callId}`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.json());
    expect(record).toMatchObject({ status: 'rejected', profile: null, dialledNumber: UNKNOWN, endReason: 'unknown_number', metadata: { sipStatus: 486 } });
    const rejected = discord.messagesFor('team').find((m) => m.content.includes('Call rejected'));
    expect(rejected?.content).toContain(
      '🚫 **Call rejected** from +14155550123 to +18005559999: no agent profile answers this number (486 Busy Here)',
    );
    expect(discord.messagesFor('acme').some((m) => m.content.includes('Call rejected'))).toBe(false);
  });

  it("applies a changed file to the next call, while the call in progress keeps its profile (ConfigMap symlink swap)", async () => {
    const { call: before } = await h.emulator.placeCall(h.webhookUrl, { to: ACME });
    await before.connected;

    const reloaded = await reloadAfter(() =>
      configMap.publish({
        'tenants.yaml': tenantsYaml(acmeWebhook, {
          voice: 'ash',
          instructions: 'You answer the phone for Acme Tools, version two.',
          tools: '[transfer_to_human]',
          notifications: '{ discord: [] }',
        }),
        'acme-returns.md': 'Returns are free within 60 days.\n',
      }),
    );
    expect(reloaded).toEqual({ kind: 'applied', profiles: ['acme', 'globex', 'default'] });

    const { call: after } = await h.emulator.placeCall(h.webhookUrl, { to: ACME });
    await after.connected;
    const next = acceptOf(h, after);
    expect(next.instructions).toMatch(/^You answer the phone for Acme Tools, version two\./);
    expect(next.instructions).toContain('Returns are free within 60 days.');
    expect(next.audio.output.voice).toBe('ash');
    expect(toolNames(next)).toEqual(['transfer_to_human']);
    expect(acceptOf(h, before).audio.output.voice).toBe('cedar');

    // The call accepted before the change may still end itself; the one after may not.
    play(before, script().toolCall('end_call', {}, { callId: 'call_end_before' }));
    expect(await toolRun(before.callId, 'call_end_before')).toMatchObject({ status: 'succeeded' });
    expect((await within(before.ended, 'the hang-up')).by).toBe('hangup');
    play(after, script().toolCall('end_call', {}, { callId: 'call_end_after' }));
    expect(await toolRun(after.callId, 'call_end_after')).toMatchObject({ status: 'unknown_tool' });
    expect((await outputOf(after, 'call_end_after')).error).toEqual({
      code: 'tool_not_allowed',
      message: 'The tool "end_call" is not available on this line. Tools: transfer_to_human.',
    });
    after.hangUp();
    await Promise.all([finished(before), finished(after)]);

    // Notifications too: the earlier call kept acme's webhook to its end, the later one has none.
    const acmeMessages = discord.messagesFor('acme').map((m) => m.content).join('\n');
    expect(acmeMessages).toContain(before.callId.slice(-6));
    expect(acmeMessages).toMatch(/☎️ \*\*Call ended\*\*/);
    expect(acmeMessages).not.toContain(after.callId.slice(-6));
    expect(discord.messagesFor('team').map((m) => m.content).join('\n')).not.toContain(after.callId.slice(-6));
  });

  it('refuses an invalid new file and keeps answering with the profiles in use', async () => {
    const inUse = tenants.profileNames;
    const outcome = await reloadAfter(() =>
      configMap.publish({
        'tenants.yaml': `profiles:\n  acme:\n    match: { dialled: ["${ACME}"] }\n    voice: Not A Voice\n  globex:\n    match: { dialled: ["${ACME}"] }\n`,
        'acme-returns.md': RETURNS,
      }),
    );
    expect(outcome.kind).toBe('rejected');
    const problems = outcome.kind === 'rejected' ? outcome.error.problems : [];
    expect(problems).toEqual([expect.objectContaining({ profile: 'acme', field: 'voice' })]);
    expect(tenants.profileNames).toEqual(inUse);

    const { call } = await h.emulator.placeCall(h.webhookUrl, { to: ACME, script: script().hangup() });
    const body = acceptOf(h, call);
    expect(body.audio.output.voice).toBe('ash');
    expect(body.instructions).toMatch(/^You answer the phone for Acme Tools, version two\./);
    await finished(call);

    // Fixing the file applies it.
    const fixed = await reloadAfter(() => configMap.publish({ 'tenants.yaml': tenantsYaml(acmeWebhook, V1), 'acme-returns.md': RETURNS }));
    expect(fixed.kind).toBe('applied');
    const { call: again } = await h.emulator.placeCall(h.webhookUrl, { to: ACME, script: script().hangup() });
    expect(acceptOf(h, again).audio.output.voice).toBe('cedar');
    await finished(again);
  });
});


/** These run the built service as a separate process (`npm test` builds first). */
const describeBuilt = existsSync(BUILT_MAIN) ? describe : describe.skip;

describeBuilt('the built service with a tenants file', () => {
  const secret = newWebhookSecret();
  let emulator: OpenAIEmulator;
  beforeAll(async () => {
    emulator = await new OpenAIEmulator({ apiKey: TEST_API_KEY, webhookSecret: secret }).start();
  });
  afterAll(async () => emulator.stop());

  function tenantsFile(content: string): string {
    const path = join(mkdtempSync(join(tmpdir(), 'tenants-built-')), 'tenants.yaml');
    writeFileSync(path, content);
    return path;
  }

  it('does not start with an invalid file, naming the profile and the field, and no secret', async () => {
    const webhook = 'https://discord.com/api/webhooks/1234/secret-webhook-token';
    const file = tenantsFile(
      `profiles:\n  acme:\n    match: { dialled: ["${ACME}"] }\n    voice: Not A Voice\n    notifications: { discord: "${webhook}" }\n    tools: [lookp_order]\n`,
    );
    const bridge = runBuiltBridge({ PORT: '0', HOST: '127.0.0.1', OPENAI_API_KEY: TEST_API_KEY, OPENAI_WEBHOOK_SECRET: secret, TENANTS_FILE: file });
    const { code } = await bridge.exited;
    expect(code).toBe(1);
    const output = bridge.output();
    expect(output).toContain(`Invalid tenants file ${file}`);
    expect(output).toContain('profile "acme": voice: must be a voice name');
    expect(output).not.toContain('secret-webhook-token');
    expect(output).not.toContain('listening on');
  });

  it("delivers a profile's own notifications left undelivered by a crash once it starts again", async () => {
    // The profile's Discord is unreachable while the call happens: its port is closed.
    const probe = await new FakeDiscord().start();
    const port = Number(new URL(probe.baseUrl).port);
    const url = probe.webhookUrl('acme-crash');
    await probe.stop();
    const dataDir = mkdtempSync(join(tmpdir(), 'tenants-crash-'));
    const env = {
      ...emulatorEnv(emulator, TEST_API_KEY, secret),
      DATA_DIR: dataDir,
      NOTIFY_MAX_BACKOFF_MS: '200',
      TENANTS_FILE: tenantsFile(`profiles:\n  acme:\n    match: { dialled: ["${ACME}"] }\n    notifications: { discord: "${url}" }\n`),
    };
    const first = runBuiltBridge(env);
    try {
      const bridgeUrl = await listeningUrl(first);
      const { call } = await emulator.placeCall(`${bridgeUrl}/openai/webhook`, { to: ACME, script: script().callerSays('Hello').agentSays('Hi!').hangup() });
      await call.ended;
      await waitForPendingOutbox(join(dataDir, 'bridge.sqlite'), 4); // announcement, two lines, summary
    } finally {
      first.child.kill('SIGKILL');
      await first.exited;
    }

    const discord = await new FakeDiscord({ port }).start();
    discord.webhookUrl('acme-crash', url.split('/').pop());
    const second = runBuiltBridge(env);
    try {
      await second.waitForOutput(/resuming delivery of 4 undelivered notification/);
      for (let i = 0; i < 100 && !discord.messagesFor('acme-crash').some((m) => m.content.includes('Call ended')); i++) await sleep(50);
      const text = discord.messagesFor('acme-crash').map((m) => m.content).join('\n');
      expect(text).toMatch(/Incoming call[\s\S]*Caller: Hello[\s\S]*Agent: Hi![\s\S]*Call ended/);
      expect(second.output()).not.toContain('no longer configured');
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
      await discord.stop();
    }
  });

  it('runs the demo: one call to each profile of examples/tenants.yaml, each answered by its own agent', async () => {
    const demo = runBuilt(BUILT_DEMO, {});
    const { code } = await demo.exited;
    const output = demo.output();
    expect(code).toBe(0);
    expect(output).toMatch(/accepted rtc_\w+ {2}from \+14155550123 to \+18005551212 {2}profile acme-support/);
    expect(output).toMatch(/accepted rtc_\w+ {2}from \+14155550123 to \+18005553434 {2}profile globex-sales/);
    expect(output).toContain('📞 **Incoming call** from +14155550123 to +18005551212 (agent: acme-support)');
    expect(output).toContain('📞 **Incoming call** from +14155550123 to +18005553434 (agent: globex-sales)');
    expect(output).toMatch(/voice=cedar tools=end_call,transfer_to_human; instructions "You are the phone agent of Acme Tools.*with the knowledge snippets/);
    expect(output).toMatch(/voice=sage tools=end_call; instructions "You are the sales assistant of Globex.*no knowledge/);
    expect(output).toContain('profile globex-sales, metadata {"customer":"globex"}');
    expect(output).toContain('Demo finished.');
  });

  it('reloads on SIGHUP instead of stopping', async () => {
    const file = tenantsFile(`profiles:\n  acme:\n    match: { dialled: ["${ACME}"] }\n    voice: cedar\n`);
    const bridge = runBuiltBridge({
      ...emulatorEnv(emulator, TEST_API_KEY, secret),
      TENANTS_FILE: file,
    });
    try {
      const url = await listeningUrl(bridge);
      expect(bridge.output()).toMatch(/acme: matches 1 dialled number\(s\); model gpt-realtime, voice cedar/);
      writeFileSync(file, `profiles:\n  acme:\n    match: { dialled: ["${ACME}"] }\n    voice: sage\n`);
      bridge.child.kill('SIGHUP');
      await bridge.waitForOutput(/tenant profiles reloaded[\s\S]*acme: matches 1 dialled number\(s\); model gpt-realtime, voice sage/);
      expect((await fetch(`${url}/health`)).status).toBe(200);

      const { call } = await emulator.placeCall(`${url}/openai/webhook`, { to: ACME, script: script().hangup() });
      expect((emulator.requestsFor(call.callId, 'accept')[0].body as { audio: { output: { voice: string } } }).audio.output.voice).toBe('sage');
      await bridge.waitForOutput(new RegExp(`"callId":"${call.callId}","msg":"call ended: remote_closed \\(close 1000, profile acme\\)"`));
      expect(bridge.output()).toMatch(new RegExp(`"callId":"${call.callId}",("reqId":"[^"]+",)?"msg":"profile acme \\(matched by dialled number\\)"`));
      expect(bridge.output()).not.toContain(ACME);
    } finally {
      bridge.child.kill('SIGTERM');
      await bridge.exited;
    }
  });
});
