import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { startHarness, type Harness } from './support/harness.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VALIDATOR = join(ROOT, 'scripts/validate-manifests.mjs');
const MANIFESTS = join(ROOT, 'deploy/kubernetes');

interface Outcome {
  code: number;
  stdout: string;
  /** One entry per problem the validator printed (its `✗` lines). */
  problems: string[];
}

/** `npm run validate:deploy` as CI runs it, on the given files. */
function validate(args: string[] = []): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, [VALIDATOR, ...args], { cwd: ROOT }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      const problems = stderr.split('\n').filter((line) => line.startsWith('✗ '));
      resolve({ code, stdout, problems });
    });
  });
}

describe('the deploy files as shipped', () => {
  it('pass the Kubernetes schemas and every consistency check, docker-compose.yml included', async () => {
    const outcome = await validate();
    expect(outcome.problems).toEqual([]);
    expect(outcome.code).toBe(0);
    expect(outcome.stdout).toContain('✓ deploy/kubernetes: 8 objects valid against the Kubernetes schemas');
    expect(outcome.stdout).toContain('✓ docker-compose.yml: PostgreSQL');
  });

  describe('probe the endpoints the real app serves', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness();
    });
    afterAll(async () => h.close());

    it('answers 200 on the liveness, readiness and start-up probe paths of the Deployment', async () => {
      const deployment = parse(readFileSync(join(MANIFESTS, 'deployment.yaml'), 'utf8'));
      const bridge = deployment.spec.template.spec.containers.find((c: { name: string }) => c.name === 'bridge');
      const paths = ['livenessProbe', 'readinessProbe', 'startupProbe'].map((probe) => bridge[probe].httpGet.path as string);
      expect(paths).toEqual(['/health', '/health/ready', '/health']);
      for (const path of paths) {
        expect({ path, status: (await fetch(`${h.baseUrl}${path}`)).status }).toEqual({ path, status: 200 });
      }
    });
  });
});

describe('broken copies of the deploy files', () => {
  let dir: string;
  let compose: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bridge-manifests-'));
    cpSync(MANIFESTS, join(dir, 'kubernetes'), { recursive: true });
    compose = join(dir, 'docker-compose.yml');
    cpSync(join(ROOT, 'docker-compose.yml'), compose);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Replaces text in a copied file; throws if it is not there, so a case can never test an unbroken copy. */
  function edit(file: string, from: string | RegExp, to: string): void {
    const path = join(dir, file);
    const text = readFileSync(path, 'utf8');
    const edited = text.replace(from, to);
    if (edited === text) throw new Error(`${file} does not contain ${from}`);
    writeFileSync(path, edited);
  }

  const validateCopy = () => validate(['--dir', join(dir, 'kubernetes'), '--compose', compose]);

  it('the unbroken copy passes (the cases below each break one thing)', async () => {
    const outcome = await validateCopy();
    expect(outcome.problems).toEqual([]);
    expect(outcome.code).toBe(0);
  });

  it('rejects a readiness probe on a path the app does not serve, naming file, line and the right path', async () => {
    edit('kubernetes/deployment.yaml', 'path: /health/ready', 'path: /ready');
    const outcome = await validateCopy();
    expect(outcome.code).toBe(1);
    expect(outcome.problems).toEqual([
      expect.stringMatching(/deployment\.yaml:\d+ Deployment\/sip-realtime-bridge: readinessProbe requests \/ready, but the app serves readiness at \/health\/ready$/),
    ]);
  });

  it('rejects a field of the wrong type through the Kubernetes schema', async () => {
    edit('kubernetes/deployment.yaml', 'containerPort: 8080', 'containerPort: "8080"');
    const outcome = await validateCopy();
    expect(outcome.code).toBe(1);
    expect(outcome.problems).toEqual([
      expect.stringMatching(/deployment\.yaml:\d+ Deployment\/sip-realtime-bridge: \/spec\/template\/spec\/containers\/0\/ports\/0\/containerPort must be integer \(Kubernetes schema\)$/),
    ]);
  });

  it('fails loudly on a kind the schemas do not know instead of passing it unchecked', async () => {
    writeFileSync(
      join(dir, 'kubernetes/service-monitor.yaml'),
      'apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nmetadata:\n  name: bridge\nspec:\n  endpoints: [{ port: http }]\n',
    );
    edit('kubernetes/kustomization.yaml', '  - pdb.yaml\n', '  - pdb.yaml\n  - service-monitor.yaml\n');
    const outcome = await validateCopy();
    expect(outcome.code).toBe(1);
    expect(outcome.problems).toEqual([
      expect.stringMatching(/service-monitor\.yaml:1 ServiceMonitor\/bridge: unknown kind ServiceMonitor \(apiVersion monitoring\.coreos\.com\/v1\)/),
    ]);
  });

  it('rejects a grace period that does not cover preStop + drain + the outbox flush', async () => {
    edit('kubernetes/deployment.yaml', 'terminationGracePeriodSeconds: 330', 'terminationGracePeriodSeconds: 300');
    const outcome = await validateCopy();
    expect(outcome.problems).toEqual([
      expect.stringMatching(/terminationGracePeriodSeconds is 300, but preStop \(5 s\) \+ SHUTDOWN_DRAIN_SECONDS \(300 s\) \+ 15 s for the outbox flush need 320/),
    ]);
    expect(outcome.code).toBe(1);
  });

  it('follows the drain setting: a longer SHUTDOWN_DRAIN_SECONDS needs a longer grace period', async () => {
    edit('kubernetes/deployment.yaml', /(name: SHUTDOWN_DRAIN_SECONDS\n\s+value: )"300"/, '$1"600"');
    const outcome = await validateCopy();
    expect(outcome.problems).toEqual([expect.stringMatching(/terminationGracePeriodSeconds is 330, but .* SHUTDOWN_DRAIN_SECONDS \(600 s\) .* need 620/)]);
  });

  it('rejects an environment variable the app does not document in .env.example', async () => {
    edit('kubernetes/settings.env', 'LOG_LEVEL=log\n', 'LOG_LEVEL=log\nLOG_FORMATT=json\n');
    const outcome = await validateCopy();
    expect(outcome.problems).toEqual([
      expect.stringMatching(/sets LOG_FORMATT \(through ConfigMap bridge-settings\), which the app does not document in \.env\.example$/),
    ]);
  });

  it('rejects a credential outside the Secret, and a Secret key the example does not have', async () => {
    edit('kubernetes/settings.env', 'LOG_LEVEL=log\n', 'LOG_LEVEL=log\nORDER_API_TOKEN=not-in-a-configmap\n');
    edit('kubernetes/deployment.yaml', 'key: METRICS_TOKEN', 'key: METRIC_TOKEN');
    const outcome = await validateCopy();
    expect(outcome.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/ConfigMap\/bridge-settings: ORDER_API_TOKEN is a credential: it belongs in the Secret, not a ConfigMap$/),
        expect.stringMatching(/METRICS_TOKEN reads key METRIC_TOKEN, which Secret bridge-secrets \(.*secret\.example\.yaml\) does not have$/),
      ]),
    );
    expect(outcome.code).toBe(1);
  });

  it('refuses to let kustomize apply the example Secret over the real one', async () => {
    edit('kubernetes/kustomization.yaml', '  - pdb.yaml\n', '  - pdb.yaml\n  - secret.example.yaml\n');
    const outcome = await validateCopy();
    expect(outcome.problems).toEqual([expect.stringMatching(/secret\.example\.yaml: is an example but kustomization\.yaml lists it under resources/)]);
  });

  it('rejects a container that may run as root or write to its root filesystem', async () => {
    // The container's securityContext overrides the pod's.
    edit(
      'kubernetes/deployment.yaml',
      /runAsUser: 1000\n(\s+)runAsGroup: 1000\n(\s+)readOnlyRootFilesystem: true/,
      'runAsUser: 0\n$1runAsGroup: 1000\n$2readOnlyRootFilesystem: false',
    );
    const outcome = await validateCopy();
    expect(outcome.problems).toEqual([
      expect.stringMatching(/Deployment\/sip-realtime-bridge: runAsUser must be the image's non-root uid \(1000\), got 0$/),
      expect.stringMatching(/Deployment\/sip-realtime-bridge: readOnlyRootFilesystem must be true$/),
    ]);
  });

  it('rejects a tenants file whose numbers are not E.164 or belong to two profiles, pointing at its line', async () => {
    edit('kubernetes/tenants.yaml', '["+442079460958"]', '["+12025550143", 4420]');
    const outcome = await validateCopy();
    expect(outcome.problems).toEqual([
      expect.stringMatching(/tenants\.yaml:\d+: .*profile acme-support: \+12025550143 is already matched by profile acme-sales$/),
      expect.stringMatching(/tenants\.yaml:\d+: .*profile acme-support: 4420 is not an E\.164 number/),
    ]);
  });

  it('rejects a Service that does not reach the container port', async () => {
    edit('kubernetes/service.yaml', 'targetPort: http', 'targetPort: 8081');
    const outcome = await validateCopy();
    expect(outcome.problems).toEqual([expect.stringMatching(/service\.yaml:\d+ Service\/sip-realtime-bridge: targetPort 8081 is 8081, but the app listens on 8080$/)]);
  });

  it('rejects a compose file whose stop grace period would cut the drain short, or without PostgreSQL health', async () => {
    edit('docker-compose.yml', 'stop_grace_period: 325s', 'stop_grace_period: 30s');
    edit('docker-compose.yml', 'condition: service_healthy', 'condition: service_started');
    const outcome = await validateCopy();
    expect(outcome.problems).toEqual([
      expect.stringMatching(/docker-compose\.yml services\.bridge: depends_on\.postgres\.condition must be service_healthy/),
      expect.stringMatching(/docker-compose\.yml services\.bridge: stop_grace_period is 30 s, but SHUTDOWN_DRAIN_SECONDS \(300 s\) \+ 15 s .* need 315/),
    ]);
    expect(outcome.code).toBe(1);
  });
});
