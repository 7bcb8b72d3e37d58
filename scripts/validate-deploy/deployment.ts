import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IDeployment } from 'kubernetes-models/apps/v1';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import type { IConfigMap, IContainer, IContainerPort, ILifecycleHandler, IPodSpec, ISecret, IService } from 'kubernetes-models/v1';
import {
  ACTIVE_CALLS_METRIC,
  CREDENTIALS,
  DEFAULT_ACCEPT_TIMEOUT_MS,
  DEFAULT_DRAIN_SECONDS,
  DEPLOYMENT_REQUIRED_SECRETS,
  HANDOVER_SECONDS,
  LIVENESS_PATH,
  METRICS_PATH,
  MIN_FLUSH_MARGIN_SECONDS,
  MIN_READINESS_TIMEOUT_SECONDS,
  PLACEHOLDER,
  READINESS_PATH,
  SERVICE_PORT,
} from './contract.js';
import type { Resource, YamlPath } from './resources.js';
import { checkTenantsMount } from './tenants-file.js';
import { ROOT, type Validation } from './validation.js';

/** One variable of the container's environment: its value when known here, and where it is set. */
export interface EnvEntry {
  value?: string;
  /** From a Secret: set, its value unknown here. */
  secret?: boolean;
  /** A secretKeyRef marked optional. */
  optional?: boolean;
  /** `env`, or the ConfigMap / Secret of an envFrom. */
  origin: string;
  /** Where in the container it is set. */
  path: YamlPath;
}

/** The bridge's pod, with what its checks need to name places in the Deployment. */
export interface PodContext {
  pod: IPodSpec;
  container: IContainer;
  configMaps: Resource<IConfigMap>[];
  secrets: Resource<ISecret>[];
  podAt(path: YamlPath): string;
  at(path: YamlPath): string;
}

/** What the other objects must agree with. */
interface Bridge {
  name: string | undefined;
  labels: Record<string, string>;
  port: number;
  resolvePort(value: unknown): number | undefined;
  /** `spec.replicas`; undefined when the autoscaler owns the count. */
  replicas: number | undefined;
  maxCalls: number;
  /** DATABASE_URL set: PostgreSQL, several replicas, live calls handed over on drain and taken over on a crash. */
  shared: boolean;
}

/** What a schema cannot see: every object consistent with the app and with the others. */
export async function checkConsistency(v: Validation, resources: Resource[]): Promise<void> {
  const ofKind = <T>(kind: string) => resources.filter((r) => r.object.kind === kind) as unknown as Resource<T>[];
  const configMaps = ofKind<IConfigMap>('ConfigMap');
  const secrets = ofKind<ISecret>('Secret');

  for (const secret of secrets) {
    if (!secret.example) {
      v.report(secret.at(), 'a Secret with values is committed: keep credentials out of the repository (secret.example.yaml shows the shape)');
      continue;
    }
    for (const [key, value] of Object.entries(secretData(secret.object))) {
      if (!v.documented.has(key)) v.report(secret.at(['stringData', key]), `key ${key} is not a variable .env.example documents`);
      if (!value.includes(PLACEHOLDER)) v.report(secret.at(['stringData', key]), `${key} looks like a real value: an example holds placeholders containing "${PLACEHOLDER}" only`);
    }
  }
  for (const configMap of configMaps) {
    for (const key of Object.keys(configMap.object.data ?? {})) {
      if (CREDENTIALS.has(key)) v.report(configMap.at(['data', key]), `${key} is a credential: it belongs in the Secret, not a ConfigMap`);
    }
  }

  const deployments = ofKind<IDeployment>('Deployment');
  if (deployments.length !== 1) {
    v.report(deployments[1]?.at() ?? 'deploy/kubernetes', `expected exactly one Deployment (the bridge), found ${deployments.length}`);
    return;
  }
  const bridge = await checkDeployment(v, deployments[0]!, { configMaps, secrets });
  if (!bridge) return;

  const services = ofKind<IService>('Service');
  for (const service of services) checkService(v, service, bridge);
  const autoscalers = ofKind<IHorizontalPodAutoscaler>('HorizontalPodAutoscaler');
  // Without `replicas`, the autoscaler's floor is what a disruption may leave.
  const replicas = bridge.replicas ?? autoscalers[0]?.object.spec?.minReplicas ?? 1;
  const budgets = ofKind<IPodDisruptionBudget>('PodDisruptionBudget');
  for (const pdb of budgets) checkDisruptionBudget(v, pdb, bridge, replicas);
  if (bridge.shared && !budgets.some((pdb) => matches(pdb.object.spec?.selector?.matchLabels, bridge.labels))) {
    v.report(
      deployments[0]!.at(),
      'no PodDisruptionBudget selects its pods: a node drain may evict every replica at once, and the calls they hand over would have no ready replica to go to',
    );
  }
  for (const hpa of autoscalers) checkAutoscaler(v, hpa, bridge);
  for (const ingress of ofKind<IIngress>('Ingress')) checkIngress(v, ingress, services);
}

/** A Secret's keys and values, `data` decoded (stringData wins). */
export function secretData(secret: ISecret): Record<string, string> {
  const data: Record<string, unknown> = { ...(secret.stringData ?? {}) };
  for (const [key, value] of Object.entries(secret.data ?? {})) data[key] ??= Buffer.from(String(value), 'base64').toString('utf8');
  return Object.fromEntries(Object.entries(data).map(([key, value]) => [key, String(value)]));
}

/** Checks the bridge's pod; returns what the other objects must agree with. */
async function checkDeployment(
  v: Validation,
  deployment: Resource<IDeployment>,
  { configMaps, secrets }: { configMaps: Resource<IConfigMap>[]; secrets: Resource<ISecret>[] },
): Promise<Bridge | undefined> {
  const spec = deployment.object.spec ?? ({} as NonNullable<IDeployment['spec']>);
  const pod = spec.template?.spec ?? ({} as IPodSpec);
  const podPath = ['spec', 'template', 'spec'];
  const labels = spec.template?.metadata?.labels ?? {};
  const index = (pod.containers ?? []).findIndex((c) => c.name === 'bridge');
  if (index < 0) {
    v.report(deployment.at([...podPath, 'containers']), 'has no container named "bridge"');
    return undefined;
  }
  if (!matches(spec.selector?.matchLabels, labels)) {
    v.report(deployment.at(['spec', 'selector']), 'spec.selector.matchLabels does not match the pod template labels');
  }
  const container = pod.containers[index]!;
  const ctx: PodContext = {
    pod,
    container,
    configMaps,
    secrets,
    podAt: (path) => deployment.at([...podPath, ...path]),
    at: (path) => deployment.at([...podPath, 'containers', index, ...path]),
  };

  const env = containerEnvironment(v, ctx);
  const number = (name: string, fallback: number): number => {
    const entry = env.get(name);
    if (entry?.value === undefined) return fallback;
    const value = Number(entry.value);
    if (!Number.isInteger(value) || value < 0) v.report(ctx.at(entry.path), `${name} must be a whole number, got ${JSON.stringify(entry.value)}`);
    return value;
  };
  const port = number('PORT', v.defaultPort);
  const ports: IContainerPort[] = container.ports ?? [];
  if (!ports.some((p) => Number(p.containerPort) === port)) v.report(ctx.at(['ports']), `no containerPort ${port}: the app listens on PORT=${port}`);
  const resolvePort = (value: unknown): number | undefined => {
    if (typeof value === 'number' || /^\d+$/.test(String(value))) return Number(value);
    const named = ports.find((p) => p.name === value);
    return named ? Number(named.containerPort) : undefined;
  };

  const shared = env.has('DATABASE_URL');
  checkSettingValues(v, ctx, env);
  checkProbes(v, ctx, port, resolvePort);
  checkGracePeriod(v, ctx, {
    shared,
    drain: number('SHUTDOWN_DRAIN_SECONDS', DEFAULT_DRAIN_SECONDS),
    accept: Math.ceil(number('ACCEPT_TIMEOUT_MS', DEFAULT_ACCEPT_TIMEOUT_MS) / 1000),
  });
  if (shared) checkRollout(v, deployment);
  checkHardening(v, ctx);
  const tenants = env.get('TENANTS_FILE');
  if (tenants?.value) await checkTenantsMount(v, tenants as EnvEntry & { value: string }, { ...ctx, env });

  const annotations = spec.template?.metadata?.annotations ?? {};
  if (annotations['prometheus.io/scrape'] === 'true') {
    const aAt = deployment.at(['spec', 'template', 'metadata', 'annotations']);
    if (Number(annotations['prometheus.io/port']) !== port) v.report(aAt, `prometheus.io/port is ${annotations['prometheus.io/port']}, but metrics are served on ${port}`);
    if ((annotations['prometheus.io/path'] ?? METRICS_PATH) !== METRICS_PATH) v.report(aAt, `prometheus.io/path must be ${METRICS_PATH}`);
  }

  return {
    name: deployment.object.metadata?.name,
    labels,
    port,
    resolvePort,
    replicas: spec.replicas,
    maxCalls: number('MAX_CONCURRENT_CALLS', 0),
    shared,
  };
}

/**
 * The environment the process gets (envFrom first, then env, which wins on a clash), checked: every name documented,
 * credentials only from the Secret, every referenced Secret key present in the example, the required ones set (what
 * the service does not start without, and what a deployment needs besides).
 */
function containerEnvironment(v: Validation, { container, configMaps, secrets, at }: PodContext): Map<string, EnvEntry> {
  const env = new Map<string, EnvEntry>();
  (container.envFrom ?? []).forEach((from, i) => {
    if (from.configMapRef) {
      const configMap = configMaps.find((c) => c.object.metadata?.name === from.configMapRef!.name);
      if (!configMap) {
        if (!from.configMapRef.optional) v.report(at(['envFrom', i]), `envFrom ConfigMap ${from.configMapRef.name} is neither a resource nor generated by kustomization.yaml`);
        return;
      }
      for (const [key, value] of Object.entries(configMap.object.data ?? {})) {
        env.set(`${from.prefix ?? ''}${key}`, { value: String(value), origin: `ConfigMap ${from.configMapRef.name}`, path: ['envFrom', i] });
      }
    } else if (from.secretRef) {
      const secret = secrets.find((s) => s.object.metadata?.name === from.secretRef!.name);
      if (!secret) {
        v.report(at(['envFrom', i]), `envFrom Secret ${from.secretRef.name} has no example (secret.example.yaml) to check its keys against`);
        return;
      }
      for (const key of Object.keys(secretData(secret.object))) {
        env.set(`${from.prefix ?? ''}${key}`, { secret: true, origin: `Secret ${from.secretRef.name}`, path: ['envFrom', i] });
      }
    }
  });
  const seen = new Set<string>();
  (container.env ?? []).forEach((variable, i) => {
    const path: YamlPath = ['env', i];
    if (seen.has(variable.name)) v.report(at(path), `${variable.name} is set twice in env`);
    else if (env.has(variable.name)) v.report(at(path), `${variable.name} is set both here and through ${env.get(variable.name)!.origin}: env silently wins`);
    seen.add(variable.name);
    const secretRef = variable.valueFrom?.secretKeyRef;
    const configMapRef = variable.valueFrom?.configMapKeyRef;
    if (secretRef) {
      const secret = secrets.find((s) => s.object.metadata?.name === secretRef.name);
      if (!secret) v.report(at([...path, 'valueFrom']), `${variable.name} reads Secret ${secretRef.name}, which has no example (secret.example.yaml) to check it against`);
      else if (!(secretRef.key in secretData(secret.object))) v.report(at([...path, 'valueFrom']), `${variable.name} reads key ${secretRef.key}, which Secret ${secretRef.name} (${secret.file}) does not have`);
      env.set(variable.name, { secret: true, optional: secretRef.optional === true, origin: 'env', path });
    } else if (configMapRef) {
      const configMap = configMaps.find((c) => c.object.metadata?.name === configMapRef.name);
      const value = configMap?.object.data?.[configMapRef.key];
      if (value === undefined && !configMapRef.optional) v.report(at([...path, 'valueFrom']), `${variable.name} reads ${configMapRef.name}/${configMapRef.key}, which does not exist`);
      env.set(variable.name, { value, origin: 'env', path });
    } else {
      env.set(variable.name, { value: variable.value, origin: 'env', path });
    }
  });
  const required = [...new Set([...v.service.requiredVariables, ...DEPLOYMENT_REQUIRED_SECRETS])];
  for (const [name, { path, secret, optional, origin }] of env) {
    const through = origin === 'env' ? '' : ` (through ${origin})`;
    if (!v.documented.has(name)) v.report(at(path), `sets ${name}${through}, which the app does not document in .env.example`);
    if (CREDENTIALS.has(name) && !secret) v.report(at(path), `${name} is a credential: take it from the Secret (secretKeyRef), not a literal or a ConfigMap`);
    if (required.includes(name) && optional) v.report(at(path), `${name} is required: its secretKeyRef must not be optional`);
  }
  for (const name of required) {
    if (env.has(name)) continue;
    v.report(
      at(['env']),
      name === 'DATABASE_URL'
        ? 'DATABASE_URL is not set: replicas share PostgreSQL, and with a read-only root filesystem there is nowhere for SQLite'
        : `${name} is not set: the service refuses to start without it`,
    );
  }
  return env;
}

function checkProbes(v: Validation, { container, at }: PodContext, port: number, resolvePort: (value: unknown) => number | undefined): void {
  const probes = [
    ['livenessProbe', LIVENESS_PATH, 'liveness (the process alone)'],
    ['readinessProbe', READINESS_PATH, 'readiness'],
    // Readiness depends on storage: a slow database at start-up must not get the pod restarted.
    ['startupProbe', LIVENESS_PATH, 'liveness, which a start-up probe must use (readiness waits on storage)'],
  ] as const;
  for (const [field, path, what] of probes) {
    const probe = container[field];
    if (!probe) {
      v.report(at([]), `has no ${field}: it must be GET ${path}`);
    } else if (!probe.httpGet) {
      v.report(at([field]), `${field} must be an httpGet on ${path}`);
    } else {
      if (probe.httpGet.path !== path) v.report(at([field, 'httpGet', 'path']), `${field} requests ${probe.httpGet.path ?? '/'}, but the app serves ${what} at ${path}`);
      const target = resolvePort(probe.httpGet.port);
      if (target !== port) v.report(at([field, 'httpGet', 'port']), `${field} port ${probe.httpGet.port} is ${target ?? 'no container port'}, but the app listens on ${port}`);
    }
  }
  if (container.readinessProbe && (container.readinessProbe.timeoutSeconds ?? 1) < MIN_READINESS_TIMEOUT_SECONDS) {
    v.report(at(['readinessProbe']), `readinessProbe.timeoutSeconds must be at least ${MIN_READINESS_TIMEOUT_SECONDS}: the readiness check itself waits up to 1 s for storage`);
  }
}

/**
 * The grace period. The kubelet runs preStop, then sends SIGTERM, and kills the container when
 * terminationGracePeriodSeconds, counted from the start of preStop, runs out. What must fit in it depends on the
 * storage (docs/operations.md, "Graceful drain"):
 *
 *   PostgreSQL (DATABASE_URL set; a Deployment always sets it): the drain does not wait for calls to end. Every live
 *   call is handed over at once (its sideband closed here, its lines stored, its lease released; another replica
 *   reopens it on its next poll) and the process exits in seconds. The budget:
 *     grace ≥ preStop + ⌈ACCEPT_TIMEOUT_MS⌉ + HANDOVER_SECONDS + MIN_FLUSH_MARGIN_SECONDS   (5 + 4 + 5 + 15 = 29 s)
 *   an accept in flight at SIGTERM, the hand-over itself, then the outbox flush and closing. SHUTDOWN_DRAIN_SECONDS is
 *   not part of it: it bounds only a call whose accept was still in flight at SIGTERM, which stays on this replica
 *   (it is not handed over). When the grace period ends first, the kubelet's kill leaves that call's lease to run
 *   out, and another replica takes it over as after a crash: nothing is cut short that would not be otherwise.
 *   Nor is the case of no other ready replica: the pod releases the leases and exits all the same (the next replica
 *   to start takes over the calls still live); the rolling update and the PodDisruptionBudget keep one there.
 *
 *   SQLite (one process, nothing to hand over): SIGTERM waits for the calls to end, for up to SHUTDOWN_DRAIN_SECONDS:
 *     grace ≥ preStop + SHUTDOWN_DRAIN_SECONDS + MIN_FLUSH_MARGIN_SECONDS
 */
function checkGracePeriod(
  v: Validation,
  { pod, container, at, podAt }: PodContext,
  { shared, drain, accept }: { shared: boolean; drain: number; accept: number },
): void {
  const preStop = preStopSeconds(container.lifecycle?.preStop);
  if (preStop === undefined) {
    v.report(at(['lifecycle']), 'needs a preStop sleep (exec ["sleep", "N"]): load balancers keep routing to a terminating pod for a few seconds');
  }
  const grace = pod.terminationGracePeriodSeconds ?? 30;
  if (shared) {
    const needed = (preStop ?? 0) + accept + HANDOVER_SECONDS + MIN_FLUSH_MARGIN_SECONDS;
    if (grace < needed) {
      v.report(
        podAt(['terminationGracePeriodSeconds']),
        `terminationGracePeriodSeconds is ${grace}, but preStop (${preStop ?? 0} s) + an accept in flight (ACCEPT_TIMEOUT_MS, ${accept} s) + ` +
          `${HANDOVER_SECONDS} s to hand the live calls over + ${MIN_FLUSH_MARGIN_SECONDS} s for the outbox flush need ${needed} (PostgreSQL): ` +
          'the pod would be killed mid-hand-over',
      );
    }
    return;
  }
  const needed = (preStop ?? 0) + drain + MIN_FLUSH_MARGIN_SECONDS;
  if (grace < needed) {
    v.report(
      podAt(['terminationGracePeriodSeconds']),
      `terminationGracePeriodSeconds is ${grace}, but preStop (${preStop ?? 0} s) + SHUTDOWN_DRAIN_SECONDS (${drain} s) + ` +
        `${MIN_FLUSH_MARGIN_SECONDS} s for the outbox flush need ${needed} (SQLite: the drain waits for calls to end): the pod would be killed mid-drain`,
    );
  }
}

/**
 * With PostgreSQL a draining pod hands its calls to the ready replicas: a rollout must start a new pod and wait for
 * it to be ready before an old one goes (RollingUpdate, maxUnavailable 0, maxSurge at least 1). Otherwise an old pod
 * hands its calls to replicas that are about to drain too (each move a gap in the transcripts), or to none at all
 * (Recreate, or one replica), and they wait unwatched for a new pod.
 */
function checkRollout(v: Validation, deployment: Resource<IDeployment>): void {
  const strategy = deployment.object.spec?.strategy;
  const at = (path: YamlPath) => deployment.at(['spec', 'strategy', ...path]);
  if (strategy?.type === 'Recreate') {
    v.report(at(['type']), 'Recreate stops every pod before new ones start: the calls they hand over would have no ready replica to go to (use RollingUpdate, maxSurge 1, maxUnavailable 0)');
    return;
  }
  const zero = (value: unknown) => value === 0 || value === '0%' || value === '0';
  const { maxUnavailable, maxSurge } = strategy?.rollingUpdate ?? {};
  if (!zero(maxUnavailable)) {
    v.report(
      at(strategy?.rollingUpdate ? ['rollingUpdate'] : []),
      `rollingUpdate.maxUnavailable is ${maxUnavailable ?? 'unset (25%)'}: it must be 0, so that a new pod is ready before an old one hands its calls over`,
    );
  }
  if (maxSurge !== undefined && zero(maxSurge)) v.report(at(['rollingUpdate']), 'rollingUpdate.maxSurge must be at least 1: with maxUnavailable 0, the rollout starts a new pod before it stops an old one');
}

/**
 * The values the manifests set, by the service's own configuration rules (CALL_LEASE_SECONDS 2–60, …): a bad one
 * stops every pod at start-up. Secrets' values are not known here (stand-ins, never judged); a value that is a path
 * in the pod (TENANTS_FILE) names a file of the pod, checked as a mount where that matters (tenants-file.ts).
 */
function checkSettingValues(v: Validation, { at }: PodContext, env: Map<string, EnvEntry>): void {
  const { assertValidEnvironment, ConfigValidationError } = v.service.config;
  const values: Record<string, string | undefined> = {};
  for (const [name, entry] of env) values[name] = entry.secret ? 'secret-stand-in' : entry.value;
  try {
    assertValidEnvironment(values);
  } catch (error) {
    if (!(error instanceof ConfigValidationError)) throw error;
    for (const { variable, problems } of error.problems) {
      const entry = env.get(variable);
      if (!entry || entry.secret || entry.value === undefined || entry.value.startsWith('/')) continue;
      const wrong = problems.filter((problem) => problem !== 'must be set');
      const through = entry.origin === 'env' ? '' : ` (through ${entry.origin})`;
      if (wrong.length > 0) v.report(at(entry.path), `${variable}${through} ${wrong.join('; ')}: the service would not start`);
    }
  }
}

/** Non-root (the image's uid), read-only with a writable /tmp, no privileges, resources bounded, volumes resolvable. */
function checkHardening(v: Validation, { pod, container, configMaps, at, podAt }: PodContext): void {
  checkContainerSecurity(v, pod, container, at, '');
  // An init container runs the same image with the same rights before the bridge: it is held to the same rules.
  (pod.initContainers ?? []).forEach((init, i) => {
    checkContainerSecurity(v, pod, init, (path) => podAt(['initContainers', i, ...path]), `init container ${init.name}: `);
  });

  const volumes = pod.volumes ?? [];
  const mounts = container.volumeMounts ?? [];
  const tmp = mounts.find((m) => m.mountPath === '/tmp');
  if (!tmp || !volumes.find((volume) => volume.name === tmp.name)?.emptyDir) {
    v.report(at(['volumeMounts']), 'with a read-only root filesystem /tmp must be a writable emptyDir mount');
  }
  mounts.forEach((mount, i) => {
    if (!volumes.some((volume) => volume.name === mount.name)) v.report(at(['volumeMounts', i]), `mounts volume ${mount.name}, which the pod does not define`);
  });
  volumes.forEach((volume, i) => {
    if (!volume.configMap || volume.configMap.optional) return;
    const configMap = configMaps.find((c) => c.object.metadata?.name === volume.configMap!.name);
    if (!configMap) v.report(podAt(['volumes', i]), `volume ${volume.name} uses ConfigMap ${volume.configMap.name}, which is neither a resource nor generated`);
    else for (const item of volume.configMap.items ?? []) if (!(item.key in (configMap.object.data ?? {}))) v.report(podAt(['volumes', i]), `ConfigMap ${volume.configMap.name} has no key ${item.key}`);
  });

  const resources = (container.resources ?? {}) as Record<string, Record<string, unknown> | undefined>;
  for (const [kind, name] of [['requests', 'cpu'], ['requests', 'memory'], ['limits', 'memory']] as const) {
    if (resources[kind]?.[name] === undefined) v.report(at(['resources']), `resources.${kind}.${name} must be set`);
  }
}

/** One container's securityContext (it overrides the pod's): non-root as the image's uid, read-only, unprivileged. */
function checkContainerSecurity(v: Validation, pod: IPodSpec, container: IContainer, at: (path: YamlPath) => string, who: string): void {
  const podSecurity = pod.securityContext ?? {};
  const security = container.securityContext ?? {};
  const effective = (key: 'runAsNonRoot' | 'runAsUser') => security[key] ?? podSecurity[key];
  const sPath = ['securityContext'];
  if (effective('runAsNonRoot') !== true) v.report(at(sPath), `${who}runAsNonRoot must be true`);
  const uid = effective('runAsUser');
  const imageUid = imageUser();
  if (typeof uid !== 'number' || uid === 0) v.report(at(sPath), `${who}runAsUser must be the image's non-root uid (${imageUid ?? 1000}), got ${uid ?? 'unset'}`);
  else if (imageUid !== undefined && uid !== imageUid) v.report(at(sPath), `${who}runAsUser ${uid} is not the image's user (Dockerfile USER ${imageUid})`);
  if (security.readOnlyRootFilesystem !== true) v.report(at(sPath), `${who}readOnlyRootFilesystem must be true`);
  if (security.allowPrivilegeEscalation !== false) v.report(at(sPath), `${who}allowPrivilegeEscalation must be false`);
  if (security.privileged === true) v.report(at(sPath), `${who}must not be privileged`);
  if (!(security.capabilities?.drop ?? []).includes('ALL')) v.report(at(sPath), `${who}capabilities.drop must include ALL`);
  const seccomp = (security.seccompProfile ?? podSecurity.seccompProfile)?.type;
  if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') v.report(at(sPath), `${who}seccompProfile must be RuntimeDefault, got ${seccomp ?? 'unset'}`);
}

/** The numeric uid of the Dockerfile's last USER, if there is one. */
function imageUser(): number | undefined {
  const dockerfile = join(ROOT, 'Dockerfile');
  if (!existsSync(dockerfile)) return undefined;
  const users = [...readFileSync(dockerfile, 'utf8').matchAll(/^USER\s+(\d+)/gm)];
  return users.length > 0 ? Number(users.at(-1)![1]) : undefined;
}

/** Seconds of an exec preStop that sleeps (["sleep", "5"] or a shell running `sleep 5`); undefined otherwise. */
function preStopSeconds(preStop: ILifecycleHandler | undefined): number | undefined {
  const command = preStop?.exec?.command ?? [];
  const text = command[0] === 'sleep' ? command.join(' ') : String(command.at(-1) ?? '');
  const match = /(?:^|\s)sleep\s+(\d+)\s*$/.exec(text);
  return match ? Number(match[1]) : undefined;
}

function matches(selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([key, value]) => labels[key] === value);
}

function checkService(v: Validation, service: Resource<IService>, bridge: Bridge): void {
  const spec = service.object.spec ?? {};
  if (!matches(spec.selector, bridge.labels)) v.report(service.at(['spec', 'selector']), `selector does not select the pods of Deployment ${bridge.name}`);
  const ports = spec.ports ?? [];
  if (!ports.some((p) => p.port === SERVICE_PORT)) v.report(service.at(['spec', 'ports']), `must expose port ${SERVICE_PORT}`);
  ports.forEach((p, i) => {
    const target = bridge.resolvePort(p.targetPort ?? p.port);
    if (target !== bridge.port) v.report(service.at(['spec', 'ports', i, 'targetPort']), `targetPort ${p.targetPort ?? p.port} is ${target ?? 'no container port'}, but the app listens on ${bridge.port}`);
  });
}

/** Pods a disruption budget lets go at once with `replicas` pods (the API server rounds percentages up). */
function disruptionsAllowed(spec: NonNullable<IPodDisruptionBudget['spec']>, replicas: number): number | undefined {
  const scaled = (value: number | string) =>
    typeof value === 'number' ? value : /^\d+%$/.test(value) ? Math.ceil((parseInt(value, 10) * replicas) / 100) : Number(value);
  if (spec.maxUnavailable !== undefined) return scaled(spec.maxUnavailable);
  if (spec.minAvailable !== undefined) return replicas - scaled(spec.minAvailable);
  return undefined;
}

/**
 * A voluntary disruption (a node drain) must be able to take a replica, or drains hang; with PostgreSQL it must
 * never take the last ready ones at once, or the calls they hand over wait unwatched for a new pod.
 */
function checkDisruptionBudget(v: Validation, pdb: Resource<IPodDisruptionBudget>, bridge: Bridge, replicas: number): void {
  const spec = pdb.object.spec ?? {};
  if (!matches(spec.selector?.matchLabels, bridge.labels)) v.report(pdb.at(['spec', 'selector']), `selector does not select the pods of Deployment ${bridge.name}`);
  const allowed = disruptionsAllowed(spec, replicas);
  if (allowed === undefined || Number.isNaN(allowed)) return;
  if (allowed <= 0) v.report(pdb.at(['spec']), `allows no disruption with ${replicas} replica(s): node drains would hang`);
  else if (bridge.shared && allowed >= replicas) {
    v.report(
      pdb.at(['spec']),
      `lets a voluntary disruption take ${allowed === 1 ? 'the only replica' : `all ${replicas} replicas`} at once: the calls they hand over would have no ready ` +
        'replica to go to until a new pod starts (run 2 or more replicas, maxUnavailable 1)',
    );
  }
}

function checkAutoscaler(v: Validation, hpa: Resource<IHorizontalPodAutoscaler>, bridge: Bridge): void {
  const spec = hpa.object.spec ?? ({} as NonNullable<IHorizontalPodAutoscaler['spec']>);
  const target = spec.scaleTargetRef ?? {};
  if (target.kind !== 'Deployment' || target.name !== bridge.name) v.report(hpa.at(['spec', 'scaleTargetRef']), `must scale Deployment ${bridge.name}`);
  const metrics = spec.metrics ?? [];
  const index = metrics.findIndex((m) => m.type === 'Pods' && m.pods?.metric?.name === ACTIVE_CALLS_METRIC);
  if (index < 0) {
    v.report(hpa.at(['spec', 'metrics']), `must scale on the Pods metric ${ACTIVE_CALLS_METRIC} (CPU does not follow calls: audio never passes through the bridge)`);
    return;
  }
  const averageValue = metrics[index]!.pods!.target?.averageValue;
  const average = Number(averageValue);
  if (bridge.maxCalls > 0 && !(average < bridge.maxCalls)) {
    v.report(hpa.at(['spec', 'metrics', index, 'pods', 'target']), `averageValue ${averageValue} must stay below MAX_CONCURRENT_CALLS (${bridge.maxCalls}), or replicas refuse calls before the autoscaler adds any`);
  }
}

function checkIngress(v: Validation, ingress: Resource<IIngress>, services: Resource<IService>[]): void {
  (ingress.object.spec?.rules ?? []).forEach((rule, r) => {
    (rule.http?.paths ?? []).forEach((route, p) => {
      const backend = route.backend?.service;
      if (!backend) return;
      const service = services.find((s) => s.object.metadata?.name === backend.name);
      const where = ingress.at(['spec', 'rules', r, 'http', 'paths', p, 'backend']);
      if (!service) v.report(where, `routes to Service ${backend.name}, which is not defined`);
      else if (!(service.object.spec?.ports ?? []).some((sp) => sp.name === backend.port?.name || sp.port === backend.port?.number)) {
        v.report(where, `routes to a port Service ${backend.name} does not expose`);
      }
    });
  });
}
