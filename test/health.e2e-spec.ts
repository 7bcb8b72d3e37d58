import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Lifecycle } from '#health';
import { startHarness, type Harness } from './support/harness.js';

describe('health endpoints', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  it('GET /health reports the process alive without touching anything external', async () => {
    await h.emulator.stop(); // OpenAI unreachable must not make the pod "dead"
    const response = await fetch(`${h.baseUrl}/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'ok', info: { process: { status: 'up' } } });
  });

  it('GET /health/ready reports configuration, storage and lifecycle', async () => {
    const response = await fetch(`${h.baseUrl}/health/ready`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      status: 'ok',
      info: { config: { status: 'up' }, storage: { status: 'up' }, lifecycle: { status: 'up' } },
    });
  });

  it('GET /health/ready answers 503 once the process is shutting down', async () => {
    h.app.get(Lifecycle).onModuleDestroy();
    const response = await fetch(`${h.baseUrl}/health/ready`);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ status: 'error', error: { lifecycle: { status: 'down' } } });
    expect((await fetch(`${h.baseUrl}/health`)).status).toBe(200);
  });
});
