import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Kysely } from 'kysely';
import { script } from '#emulator';
import { KYSELY } from '#storage';
import { CallRecordWriter } from '#transcripts';
import { startHarness, type Harness } from './support/harness.js';

describe('when the database goes away mid-service', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  it('keeps answering calls and publishing transcripts, and readiness reports storage down', async () => {
    // A real failure: the database connection is closed under the running service.
    await h.app.get<Kysely<unknown>>(KYSELY).destroy();

    const { call, delivery } = await h.emulator.placeCall(h.webhookUrl, {
      script: script().callerSays('Is the shop open?').agentSays('Yes, until six.').hangup(),
    });
    expect(delivery.status).toBe(200);
    const completed = await h.bus.waitFor('call.transcript.completed', (e) => e.callId === call.callId);
    expect(completed.lines.map((l) => l.text)).toEqual(['Is the shop open?', 'Yes, until six.']);

    // The records are kept in order, waiting for the database, not dropped.
    expect(h.app.get(CallRecordWriter).backlog).toBeGreaterThan(0);
    const ready = await fetch(`${h.baseUrl}/health/ready`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ error: { storage: { status: 'down' } } });
    expect((await fetch(`${h.baseUrl}/health`)).status).toBe(200);
  });
});
