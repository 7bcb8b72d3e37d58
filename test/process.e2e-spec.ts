import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { OpenAIEmulator, newWebhookSecret } from '#emulator';
import { TEST_API_KEY } from './support/harness.js';
import { BUILT_DEMO, BUILT_MAIN, BUILT_MIGRATE, runBuilt, runBuiltBridge, listeningUrl, emulatorEnv } from './support/process.js';
import { TEST_DIALECTS, createTestDatabase } from '#testing';

/** These run the built service as a separate process (`npm test` builds first). */
const describeBuilt = existsSync(BUILT_MAIN) ? describe : describe.skip;

describeBuilt('the built service as a process', () => {
  const secret = newWebhookSecret();
  let emulator: OpenAIEmulator;
  beforeAll(async () => {
    emulator = await new OpenAIEmulator({ apiKey: TEST_API_KEY, webhookSecret: secret }).start();
  });
  afterAll(async () => emulator.stop());

  it('refuses to start on bad configuration, naming every bad variable and no secret value', async () => {
    const bridge = runBuiltBridge({ PORT: 'eighty', OPENAI_WEBHOOK_SECRET: 'whsec_not*base64*hunter2', ACCEPT_TIMEOUT_MS: '10' });
    const { code } = await bridge.exited;
    expect(code).toBe(1);
    const output = bridge.output();
    expect(output).toContain('Invalid configuration');
    for (const variable of ['OPENAI_API_KEY', 'OPENAI_WEBHOOK_SECRET', 'PORT', 'ACCEPT_TIMEOUT_MS']) {
      expect(output).toContain(`${variable}:`);
    }
    expect(output).toContain('OPENAI_API_KEY: must be set');
    expect(output).not.toContain('hunter2');
  });

  it.each(TEST_DIALECTS)('migrates the storage schema on its own with `npm run migrate` (%s), then finds nothing to do', async (dialect) => {
    const database = await createTestDatabase(dialect);
    try {
      const env: Record<string, string> = database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : { DATA_DIR: database.dataDir! };
      const first = runBuilt(BUILT_MIGRATE, env);
      expect((await first.exited).code).toBe(0);
      expect(first.output()).toMatch(/^storage schema of (SQLite \S+|PostgreSQL \(DATABASE_URL\)) migrated in [\d.]+ s: 0001_initial, .*0008_call_leases\n$/);
      const tables = await database.db.introspection.getTables();
      expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['calls', 'transcript_lines', 'broadcasts']));
      const again = runBuilt(BUILT_MIGRATE, env);
      expect((await again.exited).code).toBe(0);
      expect(again.output()).toMatch(/is up to date\n$/);
      // The URL carries a password in production: it is never printed.
      if (database.databaseUrl) expect(first.output() + again.output()).not.toContain(database.databaseUrl);
    } finally {
      await database.drop();
    }
  });

  it('refuses to migrate with a bad DATABASE_URL or an unreachable database, exiting 1 with a clear message', async () => {
    const bad = runBuilt(BUILT_MIGRATE, { DATABASE_URL: 'mysql://user:hunter2@db/x' });
    expect((await bad.exited).code).toBe(1);
    expect(bad.output()).toContain('DATABASE_URL: must be a postgres:// or postgresql:// URL');
    expect(bad.output()).not.toContain('hunter2');
    const unreachable = runBuilt(BUILT_MIGRATE, { DATABASE_URL: 'postgres://user:hunter2@127.0.0.1:1/x' });
    expect((await unreachable.exited).code).toBe(1);
    expect(unreachable.output()).toMatch(/^The storage migration failed: .*ECONNREFUSED/);
    expect(unreachable.output()).not.toContain('hunter2');
  });

  it('on SIGTERM with no drain time fails readiness first, then closes active call sessions cleanly, then exits 0', async () => {
    const bridge = runBuiltBridge({
      ...emulatorEnv(emulator, TEST_API_KEY, secret),
      SHUTDOWN_DRAIN_SECONDS: '0',
    });
    try {
      const url = await listeningUrl(bridge);
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect((await fetch(`${url}/health/ready`)).status).toBe(200);

      const { call, delivery } = await emulator.placeCall(`${url}/openai/webhook`);
      expect(delivery.status).toBe(200);
      await call.connected;

      bridge.child.kill('SIGTERM');
      const closed = await call.ended;
      expect(closed).toEqual({ code: 1001, by: 'bridge' });
      expect(await bridge.exited).toEqual({ code: 0, signal: null });

      const output = bridge.output();
      const readinessFailed = output.indexOf('readiness now fails');
      const sessionsClosed = output.indexOf('closing 1 active call session');
      expect(readinessFailed).toBeGreaterThan(-1);
      expect(sessionsClosed).toBeGreaterThan(readinessFailed);
      const ended = output.split('\n').filter((line) => line.includes('call ended: shutdown')).map((line) => JSON.parse(line));
      expect(ended).toEqual([expect.objectContaining({ level: 'info', callId: call.callId, context: 'CallSessions' })]);
      expect(output).not.toContain(TEST_API_KEY);
    } finally {
      bridge.child.kill('SIGKILL');
    }
  });

  // Linux shows a descriptor's flags in /proc. O_NONBLOCK on a piped stdout (a container's) turns the logger's
  // synchronous write into a pipe that is momentarily full into EAGAIN, on which pino sleeps 100 ms on the event loop
  // before trying again; on a blocking pipe the write waits only as long as the reader takes.
  const procFs = existsSync('/proc/self/fdinfo') ? it : it.skip;
  procFs('keeps its piped stdout blocking while it serves a call, so that a slow log reader never costs 100 ms sleeps', async () => {
    const bridge = runBuiltBridge(emulatorEnv(emulator, TEST_API_KEY, secret));
    try {
      const url = await listeningUrl(bridge);
      const { call, delivery } = await emulator.placeCall(`${url}/openai/webhook`);
      expect(delivery.status).toBe(200);
      await call.connected;
      const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/${bridge.child.pid}/fdinfo/1`, 'utf8'))?.[1];
      expect(flags).toBeDefined();
      const O_NONBLOCK = 0o4000;
      expect(Number.parseInt(flags!, 8) & O_NONBLOCK).toBe(0);
    } finally {
      bridge.child.kill('SIGKILL');
    }
  });

  it('runs the demo: a scripted call end to end against the emulator, exiting 0', async () => {
    const demo = runBuilt(BUILT_DEMO, {});
    const { code } = await demo.exited;
    const output = demo.output();
    expect(code).toBe(0);
    expect(output).toMatch(/accepted rtc_/);
    expect(output).toContain('sideband connected');
    expect(output).toContain("Caller: Hi, I'd like to check on my order.");
    expect(output).toContain('Agent: Goodbye, and have a great day!');
    expect(output).toMatch(/Caller: It is four two one seven\.[\s\S]*Agent: Thanks\. Order 4217/); // the late transcription, in its place
    expect(output).toContain('The stored record');
    expect(output).toContain('ended reason=remote_closed');
    expect(output).toContain('Demo finished.');
  });

  it('leaves the console up after the demo with --console, its calls in it, and prints the URL and token', async () => {
    const demo = runBuilt(BUILT_DEMO, {}, ['--console']);
    try {
      const [, url] = await demo.waitForOutput(/(http:\/\/\S+\/console\/)/, 30_000);
      const [, token] = await demo.waitForOutput(/sign in with the admin token (\S+)/);
      expect((await fetch(url)).status).toBe(200);
      const signIn = await fetch(new URL('/console/api/session', url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
      expect(signIn.status).toBe(200);
      const cookie = signIn.headers.get('set-cookie')!.split(';')[0];
      const calls = (await (await fetch(new URL('/calls', url), { headers: { cookie } })).json()) as { calls: unknown[] };
      expect(calls.calls).toHaveLength(2);
    } finally {
      demo.child.kill('SIGINT');
    }
    expect((await demo.exited).code).toBe(0);
  }, 60_000);
});
