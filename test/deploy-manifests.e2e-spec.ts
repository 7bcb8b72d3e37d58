import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { parse } from 'yaml';
import { startHarness, type Harness } from './support/harness.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const VALIDATOR = join(ROOT, 'dist/scripts/validate-deploy/main.js');
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

  describe('shutdown: with PostgreSQL a pod hands its live calls over instead of waiting for them to end', () => {
    it('rejects a grace period that does not cover preStop + an accept in flight + the hand-over + the outbox flush', async () => {
      edit('kubernetes/deployment.yaml', 'terminationGracePeriodSeconds: 60', 'terminationGracePeriodSeconds: 25');
      const outcome = await validateCopy();
      expect(outcome.problems).toEqual([
        expect.stringMatching(
          /deployment\.yaml:\d+ Deployment\/sip-realtime-bridge: terminationGracePeriodSeconds is 25, but preStop \(5 s\) \+ an accept in flight \(ACCEPT_TIMEOUT_MS, 4 s\) \+ 5 s to hand the live calls over \+ 15 s for the outbox flush need 29 \(PostgreSQL\): the pod would be killed mid-hand-over$/,
        ),
      ]);
      expect(outcome.code).toBe(1);
    });

    it('sizes the grace period by the hand-over, not by SHUTDOWN_DRAIN_SECONDS; a longer ACCEPT_TIMEOUT_MS needs more', async () => {
      // The calls are handed over rather than waited for: a long drain setting needs no long grace period.
      edit('kubernetes/deployment.yaml', /(name: SHUTDOWN_DRAIN_SECONDS\n\s+value: )"30"/, '$1"600"');
      expect((await validateCopy()).problems).toEqual([]);

      edit('kubernetes/deployment.yaml', 'terminationGracePeriodSeconds: 60', 'terminationGracePeriodSeconds: 30');
      edit('kubernetes/settings.env', 'LOG_LEVEL=log\n', 'LOG_LEVEL=log\nACCEPT_TIMEOUT_MS=10000\n');
      const outcome = await validateCopy();
      expect(outcome.problems).toEqual([expect.stringMatching(/terminationGracePeriodSeconds is 30, but .* an accept in flight \(ACCEPT_TIMEOUT_MS, 10 s\) .* need 35 \(PostgreSQL\)/)]);
    });

    it('holds a pod without PostgreSQL (SQLite: one process, calls waited for) to preStop + SHUTDOWN_DRAIN_SECONDS + the flush', async () => {
      edit('kubernetes/deployment.yaml', /( +)# PostgreSQL: every replica[^\n]*\n(?:\1#[^\n]*\n)*\1- name: DATABASE_URL\n(?:\1 [^\n]*\n){4}/, '');
      edit('kubernetes/deployment.yaml', /(name: SHUTDOWN_DRAIN_SECONDS\n\s+value: )"30"/, '$1"300"');
      const outcome = await validateCopy();
      expect(outcome.problems).toEqual([
        expect.stringMatching(/DATABASE_URL is not set: replicas share PostgreSQL/),
        expect.stringMatching(
          /terminationGracePeriodSeconds is 60, but preStop \(5 s\) \+ SHUTDOWN_DRAIN_SECONDS \(300 s\) \+ 15 s for the outbox flush need 320 \(SQLite: the drain waits for calls to end\): the pod would be killed mid-drain$/,
        ),
      ]);
      expect(outcome.code).toBe(1);
    });

    it('rejects a rollout that may stop an old pod before its replacement is ready (nobody to hand its calls to)', async () => {
      edit('kubernetes/deployment.yaml', 'maxUnavailable: 0', 'maxUnavailable: 1');
      const outcome = await validateCopy();
      expect(outcome.problems).toEqual([
        expect.stringMatching(/deployment\.yaml:\d+ Deployment\/sip-realtime-bridge: rollingUpdate\.maxUnavailable is 1: it must be 0, so that a new pod is ready before an old one hands its calls over$/),
      ]);
      expect(outcome.code).toBe(1);
    });

    it('rejects a disruption budget that lets the last ready replicas go at once, and a missing one', async () => {
      edit('kubernetes/deployment.yaml', 'replicas: 2', 'replicas: 1');
      expect((await validateCopy()).problems).toEqual([
        expect.stringMatching(/pdb\.yaml:\d+ PodDisruptionBudget\/sip-realtime-bridge: lets a voluntary disruption take the only replica at once: the calls they hand over would have no ready replica to go to/),
      ]);

      edit('kubernetes/deployment.yaml', 'replicas: 1', 'replicas: 2');
      edit('kubernetes/pdb.yaml', 'maxUnavailable: 1', 'maxUnavailable: "100%"');
      expect((await validateCopy()).problems).toEqual([expect.stringMatching(/PodDisruptionBudget\/sip-realtime-bridge: lets a voluntary disruption take all 2 replicas at once/)]);

      rmSync(join(dir, 'kubernetes/pdb.yaml'));
      edit('kubernetes/kustomization.yaml', '  - pdb.yaml\n', '');
      const outcome = await validateCopy();
      expect(outcome.problems).toEqual([expect.stringMatching(/Deployment\/sip-realtime-bridge: no PodDisruptionBudget selects its pods: a node drain may evict every replica at once/)]);
      expect(outcome.code).toBe(1);
    });

    it("checks the settings' values by the service's own rules: a lease below 2 s would stop every pod", async () => {
      edit('kubernetes/settings.env', 'CALL_LEASE_SECONDS=5', 'CALL_LEASE_SECONDS=1');
      const outcome = await validateCopy();
      expect(outcome.problems).toEqual([
        expect.stringMatching(/Deployment\/sip-realtime-bridge: CALL_LEASE_SECONDS \(through ConfigMap bridge-settings\) must not be less than 2: the service would not start$/),
      ]);
      expect(outcome.code).toBe(1);
    });
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
      /(- name: bridge\n[\s\S]*?)runAsUser: 1000\n(\s+)runAsGroup: 1000\n(\s+)readOnlyRootFilesystem: true/,
      '$1runAsUser: 0\n$2runAsGroup: 1000\n$3readOnlyRootFilesystem: false',
    );
    const outcome = await validateCopy();
    expect(outcome.problems).toEqual([
      expect.stringMatching(/Deployment\/sip-realtime-bridge: runAsUser must be the image's non-root uid \(1000\), got 0$/),
      expect.stringMatching(/Deployment\/sip-realtime-bridge: readOnlyRootFilesystem must be true$/),
    ]);
  });

  it('holds the migrating init container to the same rules: it runs the same image before the bridge', async () => {
    edit(
      'kubernetes/deployment.yaml',
      /(- name: migrate\n[\s\S]*?)runAsUser: 1000\n(\s+)runAsGroup: 1000\n(\s+)readOnlyRootFilesystem: true\n(\s+)allowPrivilegeEscalation: false/,
      '$1runAsUser: 0\n$2runAsGroup: 1000\n$3readOnlyRootFilesystem: false\n$4allowPrivilegeEscalation: true',
    );
    const outcome = await validateCopy();
    expect(outcome.problems).toEqual([
      expect.stringMatching(/Deployment\/sip-realtime-bridge: init container migrate: runAsUser must be the image's non-root uid \(1000\), got 0$/),
      expect.stringMatching(/Deployment\/sip-realtime-bridge: init container migrate: readOnlyRootFilesystem must be true$/),
      expect.stringMatching(/Deployment\/sip-realtime-bridge: init container migrate: allowPrivilegeEscalation must be false$/),
    ]);
    expect(outcome.code).toBe(1);
  });

  describe('the tenants file, loaded by the service\'s own loader as the pod mounts it', () => {
    const TENANTS = /^✗ .*tenants\.yaml:(\d+): tenants file \(TENANTS_FILE \/etc\/bridge\/tenants\.yaml\): /;
    /** The tenants-file problems, as `line: message`. */
    const tenantsProblems = (outcome: Outcome) =>
      outcome.problems.map((problem) => {
        const match = TENANTS.exec(problem);
        return match ? `${match[1]}: ${problem.slice(match[0].length)}` : problem;
      });
    /** The line of the first occurrence of `text` after `after` in the copied tenants file. */
    const lineOf = (text: string, after = '') => {
      const content = readFileSync(join(dir, 'kubernetes/tenants.yaml'), 'utf8');
      const at = content.indexOf(text, content.indexOf(after));
      if (at < 0) throw new Error(`tenants.yaml does not contain ${text}`);
      return content.slice(0, at).split('\n').length;
    };

    it('rejects a dialled number claimed by two profiles with the loader\'s ambiguity error, at the second claim', async () => {
      edit('kubernetes/tenants.yaml', 'dialled: ["+12025550160"]', 'dialled: ["+12025550143"]');
      const outcome = await validateCopy();
      expect(tenantsProblems(outcome)).toEqual([
        `${lineOf('dialled:', 'acme-support:')}: profile "acme-support": match.dialled: a dialled number is also matched by profile "acme-sales": each may belong to one profile only`,
      ]);
      expect(outcome.code).toBe(1);
    });

    it('rejects a tool the service does not register, naming the profile, the field and the registered tools', async () => {
      edit('kubernetes/tenants.yaml', 'tools: [end_call, transfer_to_human]', 'tools: [end_call, lookp_order]');
      const outcome = await validateCopy();
      expect(tenantsProblems(outcome)).toEqual([
        `${lineOf('tools:', 'acme-sales:')}: profile "acme-sales": tools: no tool is called "lookp_order" (the tools: end_call, lookup_order, transfer_to_human)`,
      ]);
    });

    it('rejects numbers that are not E.164, and unquoted ones, without repeating them', async () => {
      edit('kubernetes/tenants.yaml', 'forwardedFrom: ["+12025550199"]', 'forwardedFrom: ["2025550199"]');
      edit('kubernetes/tenants.yaml', 'dialled: ["+12025550143", "+12025550144"]', 'dialled: ["+12025550143", +12025550144]');
      const outcome = await validateCopy();
      expect(tenantsProblems(outcome)).toEqual([
        `${lineOf('dialled:', 'acme-sales:')}: profile "acme-sales": match.dialled: must be quoted phone numbers such as "+14155550123" (YAML reads an unquoted +1… as a number)`,
        `${lineOf('forwardedFrom:')}: profile "acme-support": match.forwardedFrom: must be phone numbers in E.164 format, such as "+14155550123" (spaces and dashes are fine)`,
      ]);
      expect(outcome.problems.join('\n')).not.toContain('2025550199');
    });

    it('rejects a tool the Deployment does not configure (the pods would not start), and accepts it once configured', async () => {
      edit('kubernetes/tenants.yaml', /(acme-support:[^]*tools: \[end_call), (transfer_to_human\])/, '$1, lookup_order, $2');
      const outcome = await validateCopy();
      expect(tenantsProblems(outcome)).toEqual([
        `${lineOf('tools:', 'acme-support:')}: profile "acme-support": tools: lookup_order cannot be offered: it is off in this deployment (not configured: ORDER_API_URL is not set)`,
      ]);

      edit('kubernetes/settings.env', 'LOG_LEVEL=log\n', 'LOG_LEVEL=log\nORDER_API_URL=http://orders.internal\n');
      expect((await validateCopy()).problems).toEqual([]);
    });

    it('follows files the tenants file names into the ConfigMap volume, and says how to ship a missing one', async () => {
      edit('kubernetes/tenants.yaml', '      - title: Returns\n', '      - file: knowledge/returns.md\n      - title: Returns\n');
      mkdirSync(join(dir, 'kubernetes/knowledge'));
      writeFileSync(join(dir, 'kubernetes/knowledge/returns.md'), 'Returns are free within 30 days.\n');
      const outcome = await validateCopy();
      expect(tenantsProblems(outcome)).toEqual([
        `${lineOf('- file:')}: profile "acme-support": knowledge[0].file: knowledge/returns.md is not in the ConfigMap volume bridge-tenants as the pod mounts it at /etc/bridge: add it to the configMapGenerator of bridge-tenants in kustomization.yaml (and to the volume's items, if it lists them)`,
      ]);

      // In the generated ConfigMap but not among the volume's items: still not in the pod.
      edit('kubernetes/kustomization.yaml', '      - tenants.yaml\n', '      - tenants.yaml\n      - knowledge/returns.md\n');
      expect(tenantsProblems(await validateCopy())).toEqual([expect.stringMatching(/knowledge\[0\]\.file: knowledge\/returns\.md is not in the ConfigMap volume/)]);

      edit('kubernetes/deployment.yaml', /( +)- key: tenants\.yaml\n( +)path: tenants\.yaml\n/, '$&$1- key: returns.md\n$2path: knowledge/returns.md\n');
      expect((await validateCopy()).problems).toEqual([]);
    });

    it('refuses a Discord webhook in the ConfigMap: it is a credential', async () => {
      edit(
        'kubernetes/tenants.yaml',
        'metadata: { customer: acme, line: support }',
        'metadata: { customer: acme, line: support }\n    notifications: { discord: "https://discord.com/api/webhooks/1/not-a-real-token" }',
      );
      const outcome = await validateCopy();
      expect(tenantsProblems(outcome)).toEqual([
        `${lineOf('notifications:')}: profile "acme-support": notifications.discord: Discord webhook URLs are credentials: they belong in a Secret, not a ConfigMap (DISCORD_WEBHOOK_URL in bridge-secrets)`,
      ]);
      expect(outcome.problems.join('\n')).not.toContain('not-a-real-token');
    });

    it('still refuses the guessed format the first version of this file used', async () => {
      writeFileSync(join(dir, 'kubernetes/tenants.yaml'), 'profiles:\n  - name: acme\n    match:\n      numbers: ["+12025550143"]\n');
      const outcome = await validateCopy();
      expect(tenantsProblems(outcome)).toEqual(['2: profiles: must be a mapping of profile names to profiles']);
    });
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
