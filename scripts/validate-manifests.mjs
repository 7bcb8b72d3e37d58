#!/usr/bin/env node
// npm run validate:deploy — checks the deploy files without a cluster or a Docker daemon:
//  1. every Kubernetes document under deploy/kubernetes against the Kubernetes JSON schemas (kubernetes-models ships
//     them with a validate() per kind); kinds it has no schema for fail loudly instead of passing unchecked;
//  2. what a schema cannot see: probes on the app's endpoints and port, environment names the app documents in
//     .env.example, credentials only from the Secret and every referenced key present in secret.example.yaml, the
//     tenants file parses, the grace period covers preStop + drain + the outbox flush, a non-root read-only
//     container, selectors that select the pods, and kustomization.yaml listing what it should (and no example);
//  3. docker-compose.yml: PostgreSQL wired with a healthcheck, the bridge's environment documented, its stop grace
//     period covering the drain, the demo profile present.
// Usage: node scripts/validate-manifests.mjs [--dir deploy/kubernetes] [--env-example .env.example]
//                                            [--compose docker-compose.yml | --no-compose]
// Exit 0 when everything holds; otherwise every problem is printed (file:line, the object, why) and the exit is 1.
// The schemas accept unknown fields, as the API server's non-strict mode does: the checks below therefore assert
// the fields that matter are present, rather than trusting that a misspelt one would be noticed.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parse, parseAllDocuments } from 'yaml';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

// The app's contract (docs: README "Endpoints"); test/deploy-manifests.e2e-spec.ts checks that the real app answers
// the manifests' probe paths.
const LIVENESS_PATH = '/health';
const READINESS_PATH = '/health/ready';
const METRICS_PATH = '/metrics';
const SERVICE_PORT = 80;
const ACTIVE_CALLS_METRIC = 'bridge_active_calls';
/** SHUTDOWN_DRAIN_SECONDS when unset. */
const DEFAULT_DRAIN_SECONDS = 300;
/** After the drain: flushing the notification outbox and closing what is left. */
const MIN_FLUSH_MARGIN_SECONDS = 15;
/** The readiness check waits up to 1 s for storage. */
const MIN_READINESS_TIMEOUT_SECONDS = 2;
const REQUIRED_SECRETS = ['OPENAI_API_KEY', 'OPENAI_WEBHOOK_SECRET', 'DATABASE_URL'];
const CREDENTIALS = new Set([
  ...REQUIRED_SECRETS,
  'DISCORD_WEBHOOK_URL',
  'TWILIO_AUTH_TOKEN',
  'ADMIN_API_TOKEN',
  'METRICS_TOKEN',
  'ORDER_API_TOKEN',
]);
const PLACEHOLDER = 'replace-me';

// ---------------------------------------------------------------------------------------------------------------
const options = parseArguments(process.argv.slice(2));
const problems = [];
const report = (where, message) => problems.push(`${where}: ${message}`);

const documented = documentedVariables(options.envExample);
const defaultPort = Number(documented.get('PORT') || 8080);
const checked = [];

await validateKubernetes(options.dir);
if (options.compose) validateCompose(options.compose);

if (problems.length > 0) {
  for (const problem of problems) console.error(`✗ ${problem}`);
  console.error(`\n${problems.length} problem${problems.length === 1 ? '' : 's'} in the deploy files`);
  process.exit(1);
}
for (const line of checked) console.log(`✓ ${line}`);

// ---------------------------------------------------------------------------------------------------------------
function parseArguments(args) {
  const parsed = {
    dir: join(ROOT, 'deploy/kubernetes'),
    envExample: join(ROOT, '.env.example'),
    compose: join(ROOT, 'docker-compose.yml'),
  };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    if (flag === '--no-compose') parsed.compose = undefined;
    else if (['--dir', '--env-example', '--compose'].includes(flag) && args[i + 1]) {
      const key = { '--dir': 'dir', '--env-example': 'envExample', '--compose': 'compose' }[flag];
      parsed[key] = resolve(args[++i]);
    } else {
      console.error(`unknown argument ${flag}\nusage: validate-manifests.mjs [--dir d] [--env-example f] [--compose f | --no-compose]`);
      process.exit(2);
    }
  }
  return parsed;
}

/** NAME → default value, for every uncommented `NAME=` line of .env.example. */
function documentedVariables(file) {
  if (!existsSync(file)) {
    report(file, 'not found: the environment the manifests set is checked against it');
    return new Map();
  }
  const names = new Map();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) names.set(match[1], match[2]);
  }
  return names;
}

// --- Kubernetes ------------------------------------------------------------------------------------------------

/**
 * A parsed object and where it came from, so a problem can name the file and line. Objects with `generatedAt` are
 * the ConfigMaps kustomize makes from configMapGenerator (located at their generator entry).
 */
function resourceOf(file, object, { doc, lineCounter, example = false, generatedAt } = {}) {
  const label = `${object?.kind ?? '?'}/${object?.metadata?.name ?? '?'}`;
  return {
    file,
    object,
    example,
    label,
    at(path = []) {
      if (generatedAt) return `${generatedAt} ${label}`;
      return `${file}:${lineOf(doc, lineCounter, path)} ${label}`;
    },
  };
}

/** The line of the deepest node of `path` that exists in the YAML document. */
function lineOf(doc, lineCounter, path) {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (node?.range) return lineCounter.linePos(node.range[0]).line;
  }
  return 1;
}

/** The first line of a YAML parse error (the rest is a code excerpt). */
function yamlError(error) {
  return error.message.split('\n')[0].replace(/:$/, '');
}

function listYamlFiles(dir) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...listYamlFiles(path));
    else if (/\.ya?ml$/.test(entry.name)) files.push(path);
  }
  return files;
}

/** The kubernetes-models class for apiVersion/kind, or undefined when there is no schema for it. */
async function modelFor(apiVersion, kind) {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return undefined;
  if (!/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) return undefined;
  try {
    const Model = (await import(`kubernetes-models/${apiVersion}`))[kind];
    return typeof Model === 'function' && Model.kind === kind && Model.apiVersion === apiVersion ? Model : undefined;
  } catch {
    return undefined;
  }
}

async function validateSchema(resource) {
  const { apiVersion, kind } = resource.object;
  const Model = await modelFor(apiVersion, kind);
  if (!Model) {
    report(
      resource.at(),
      `unknown kind ${kind} (apiVersion ${apiVersion}): the Kubernetes schemas have no such built-in kind, so it cannot ` +
        'be validated. Keep custom resources (ServiceMonitor …) as snippets in the README instead',
    );
    return;
  }
  try {
    new Model(resource.object).validate();
  } catch (error) {
    for (const detail of error.errors ?? [{ instancePath: '', message: error.message }]) {
      const at = detail.instancePath.split('/').slice(1).map((part) => (/^\d+$/.test(part) ? Number(part) : part.replace(/~1/g, '/').replace(/~0/g, '~')));
      const allowed = detail.params?.allowedValues ? ` (${detail.params.allowedValues.join(', ')})` : '';
      report(resource.at(at), `${detail.instancePath || '/'} ${detail.message}${allowed} (Kubernetes schema)`);
    }
  }
}

async function validateKubernetes(dir) {
  const shown = (file) => (file.startsWith(`${ROOT}/`) ? relative(ROOT, file) : relative(dirname(dir), file));
  const kustomizationFile = join(dir, 'kustomization.yaml');
  if (!existsSync(kustomizationFile)) {
    report(shown(kustomizationFile), 'missing: `kubectl apply -k` needs it');
    return;
  }
  const kustomizationText = readFileSync(kustomizationFile, 'utf8');
  const kustomizationCounter = new LineCounter();
  const kustomizationDoc = parseAllDocuments(kustomizationText, { lineCounter: kustomizationCounter })[0];
  const kustomization = kustomizationDoc?.toJS() ?? {};
  const kAt = (path) => `${shown(kustomizationFile)}:${lineOf(kustomizationDoc, kustomizationCounter, path)}`;
  for (const error of kustomizationDoc?.errors ?? []) report(kAt([]), `YAML: ${yamlError(error)}`);
  if (kustomization.apiVersion !== 'kustomize.config.k8s.io/v1beta1' || kustomization.kind !== 'Kustomization') {
    report(kAt([]), 'must be apiVersion kustomize.config.k8s.io/v1beta1, kind Kustomization');
  }

  const resources = [];
  const generatorInputs = new Set();
  const localFile = (entry, path) => {
    const file = resolve(dir, String(entry));
    if (!file.startsWith(dir + '/') || !existsSync(file) || !statSync(file).isFile()) {
      report(kAt(path), `${entry} is not a file in ${shown(dir)} (only local files are followed)`);
      return undefined;
    }
    return file;
  };

  (kustomization.configMapGenerator ?? []).forEach((generator, g) => {
    const data = {};
    const sources = {};
    (generator.files ?? []).forEach((entry, i) => {
      const [key, source] = String(entry).includes('=') ? String(entry).split(/=(.*)/s) : [basename(String(entry)), entry];
      const file = localFile(source, ['configMapGenerator', g, 'files', i]);
      if (!file) return;
      data[key] = readFileSync(file, 'utf8');
      sources[key] = shown(file);
      generatorInputs.add(file);
    });
    (generator.envs ?? []).forEach((entry, i) => {
      const file = localFile(entry, ['configMapGenerator', g, 'envs', i]);
      if (!file) return;
      generatorInputs.add(file);
      readFileSync(file, 'utf8').split('\n').forEach((line, n) => {
        if (!line.trim() || line.trim().startsWith('#')) return;
        const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
        if (match) data[match[1]] = match[2];
        else report(`${shown(file)}:${n + 1}`, `expected NAME=value, got ${JSON.stringify(line.trim().slice(0, 40))}`);
      });
    });
    for (const literal of generator.literals ?? []) {
      const [key, value = ''] = String(literal).split(/=(.*)/s);
      data[key] = value;
    }
    const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: generator.name }, data };
    const resource = resourceOf(shown(kustomizationFile), object, { generatedAt: `${kAt(['configMapGenerator', g])} (configMapGenerator)` });
    resources.push(Object.assign(resource, { sources }));
  });

  const listed = new Set();
  (kustomization.resources ?? []).forEach((entry, i) => {
    const file = localFile(entry, ['resources', i]);
    if (file) listed.add(file);
  });

  for (const file of listYamlFiles(dir)) {
    if (file === kustomizationFile || generatorInputs.has(file)) continue;
    const example = /\.example\.ya?ml$/.test(file);
    if (example && listed.has(file)) {
      report(shown(file), 'is an example but kustomization.yaml lists it under resources: `kubectl apply -k` would apply its placeholders (for the Secret: over the real one)');
    } else if (!example && !listed.has(file)) {
      report(shown(file), 'is not listed under resources in kustomization.yaml, so `kubectl apply -k` skips it (list it, or name it *.example.yaml)');
    }
    const lineCounter = new LineCounter();
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'), { lineCounter })) {
      for (const error of doc.errors) report(`${shown(file)}:${error.linePos?.[0]?.line ?? '?'}`, `YAML: ${yamlError(error)}`);
      if (doc.errors.length > 0) continue;
      const object = doc.toJS();
      if (object === null || object === undefined) continue;
      const resource = resourceOf(shown(file), object, { doc, lineCounter, example });
      if (typeof object !== 'object' || Array.isArray(object) || !object.apiVersion || !object.kind) {
        report(resource.at(), 'not a Kubernetes object: apiVersion and kind are required');
        continue;
      }
      resources.push(resource);
    }
  }

  for (const resource of resources) await validateSchema(resource);
  checkConsistency(resources);
  if (problems.length === 0) {
    checked.push(`${shown(dir)}: ${resources.length} objects valid against the Kubernetes schemas and consistent with the app`);
  }
}

function checkConsistency(resources) {
  const ofKind = (kind) => resources.filter((r) => r.object.kind === kind);
  const configMaps = ofKind('ConfigMap');
  const secrets = ofKind('Secret');

  for (const secret of secrets) {
    if (!secret.example) {
      report(secret.at(), 'a Secret with values is committed: keep credentials out of the repository (secret.example.yaml shows the shape)');
      continue;
    }
    for (const [key, value] of Object.entries(secretData(secret.object))) {
      if (!documented.has(key)) report(secret.at(['stringData', key]), `key ${key} is not a variable .env.example documents`);
      if (!value.includes(PLACEHOLDER)) report(secret.at(['stringData', key]), `${key} looks like a real value: an example holds placeholders containing "${PLACEHOLDER}" only`);
    }
  }
  for (const configMap of configMaps) {
    for (const key of Object.keys(configMap.object.data ?? {})) {
      if (CREDENTIALS.has(key)) report(configMap.at(['data', key]), `${key} is a credential: it belongs in the Secret, not a ConfigMap`);
    }
  }

  const deployments = ofKind('Deployment');
  if (deployments.length !== 1) {
    report(deployments[1]?.at() ?? 'deploy/kubernetes', `expected exactly one Deployment (the bridge), found ${deployments.length}`);
    return;
  }
  const deployment = deployments[0];
  const bridge = checkDeployment(deployment, { configMaps, secrets });
  if (!bridge) return;

  for (const service of ofKind('Service')) checkService(service, bridge);
  for (const pdb of ofKind('PodDisruptionBudget')) checkDisruptionBudget(pdb, bridge);
  for (const hpa of ofKind('HorizontalPodAutoscaler')) checkAutoscaler(hpa, bridge);
  for (const ingress of ofKind('Ingress')) checkIngress(ingress, ofKind('Service'));
}

function secretData(secret) {
  const data = { ...(secret.stringData ?? {}) };
  for (const [key, value] of Object.entries(secret.data ?? {})) data[key] ??= Buffer.from(String(value), 'base64').toString('utf8');
  return Object.fromEntries(Object.entries(data).map(([key, value]) => [key, String(value)]));
}

/** Checks the bridge's pod; returns what the other objects must agree with. */
function checkDeployment(deployment, { configMaps, secrets }) {
  const spec = deployment.object.spec ?? {};
  const pod = spec.template?.spec ?? {};
  const podPath = ['spec', 'template', 'spec'];
  const labels = spec.template?.metadata?.labels ?? {};
  const index = (pod.containers ?? []).findIndex((c) => c.name === 'bridge');
  if (index < 0) {
    report(deployment.at([...podPath, 'containers']), 'has no container named "bridge"');
    return undefined;
  }
  if (!matches(spec.selector?.matchLabels, labels)) {
    report(deployment.at(['spec', 'selector']), 'spec.selector.matchLabels does not match the pod template labels');
  }
  const container = pod.containers[index];
  const ctx = {
    pod,
    container,
    configMaps,
    secrets,
    podAt: (path) => deployment.at([...podPath, ...path]),
    at: (path) => deployment.at([...podPath, 'containers', index, ...path]),
  };

  const env = containerEnvironment(ctx);
  const number = (name, fallback) => {
    const entry = env.get(name);
    if (entry?.value === undefined) return fallback;
    const value = Number(entry.value);
    if (!Number.isInteger(value) || value < 0) report(ctx.at(entry.path), `${name} must be a whole number, got ${JSON.stringify(entry.value)}`);
    return value;
  };
  const port = number('PORT', defaultPort);
  const ports = container.ports ?? [];
  if (!ports.some((p) => Number(p.containerPort) === port)) report(ctx.at(['ports']), `no containerPort ${port}: the app listens on PORT=${port}`);
  const resolvePort = (value) => {
    if (typeof value === 'number' || /^\d+$/.test(String(value))) return Number(value);
    const named = ports.find((p) => p.name === value);
    return named ? Number(named.containerPort) : undefined;
  };

  checkProbes(ctx, port, resolvePort);
  checkGracePeriod(ctx, number('SHUTDOWN_DRAIN_SECONDS', DEFAULT_DRAIN_SECONDS));
  checkHardening(ctx);
  const tenants = env.get('TENANTS_FILE');
  if (tenants?.value) checkTenantsMount(tenants, ctx);

  const annotations = spec.template?.metadata?.annotations ?? {};
  if (annotations['prometheus.io/scrape'] === 'true') {
    const aAt = deployment.at(['spec', 'template', 'metadata', 'annotations']);
    if (Number(annotations['prometheus.io/port']) !== port) report(aAt, `prometheus.io/port is ${annotations['prometheus.io/port']}, but metrics are served on ${port}`);
    if ((annotations['prometheus.io/path'] ?? METRICS_PATH) !== METRICS_PATH) report(aAt, `prometheus.io/path must be ${METRICS_PATH}`);
  }

  return {
    name: deployment.object.metadata?.name,
    labels,
    port,
    resolvePort,
    replicas: spec.replicas ?? 1,
    maxCalls: number('MAX_CONCURRENT_CALLS', 0),
  };
}

/**
 * The environment the process gets (envFrom first, then env, which wins on a clash), checked: every name documented,
 * credentials only from the Secret, every referenced Secret key present in the example, the required ones set.
 */
function containerEnvironment({ container, configMaps, secrets, at }) {
  const env = new Map();
  (container.envFrom ?? []).forEach((from, i) => {
    if (from.configMapRef) {
      const configMap = configMaps.find((c) => c.object.metadata?.name === from.configMapRef.name);
      if (!configMap) {
        if (!from.configMapRef.optional) report(at(['envFrom', i]), `envFrom ConfigMap ${from.configMapRef.name} is neither a resource nor generated by kustomization.yaml`);
        return;
      }
      for (const [key, value] of Object.entries(configMap.object.data ?? {})) {
        env.set(`${from.prefix ?? ''}${key}`, { value: String(value), origin: `ConfigMap ${from.configMapRef.name}`, path: ['envFrom', i] });
      }
    } else if (from.secretRef) {
      const secret = secrets.find((s) => s.object.metadata?.name === from.secretRef.name);
      if (!secret) {
        report(at(['envFrom', i]), `envFrom Secret ${from.secretRef.name} has no example (secret.example.yaml) to check its keys against`);
        return;
      }
      for (const key of Object.keys(secretData(secret.object))) {
        env.set(`${from.prefix ?? ''}${key}`, { secret: true, origin: `Secret ${from.secretRef.name}`, path: ['envFrom', i] });
      }
    }
  });
  const seen = new Set();
  (container.env ?? []).forEach((variable, i) => {
    const path = ['env', i];
    if (seen.has(variable.name)) report(at(path), `${variable.name} is set twice in env`);
    else if (env.has(variable.name)) report(at(path), `${variable.name} is set both here and through ${env.get(variable.name).origin}: env silently wins`);
    seen.add(variable.name);
    const secretRef = variable.valueFrom?.secretKeyRef;
    const configMapRef = variable.valueFrom?.configMapKeyRef;
    if (secretRef) {
      const secret = secrets.find((s) => s.object.metadata?.name === secretRef.name);
      if (!secret) report(at([...path, 'valueFrom']), `${variable.name} reads Secret ${secretRef.name}, which has no example (secret.example.yaml) to check it against`);
      else if (!(secretRef.key in secretData(secret.object))) report(at([...path, 'valueFrom']), `${variable.name} reads key ${secretRef.key}, which Secret ${secretRef.name} (${secret.file}) does not have`);
      env.set(variable.name, { secret: true, optional: secretRef.optional === true, origin: 'env', path });
    } else if (configMapRef) {
      const configMap = configMaps.find((c) => c.object.metadata?.name === configMapRef.name);
      const value = configMap?.object.data?.[configMapRef.key];
      if (value === undefined && !configMapRef.optional) report(at([...path, 'valueFrom']), `${variable.name} reads ${configMapRef.name}/${configMapRef.key}, which does not exist`);
      env.set(variable.name, { value, origin: 'env', path });
    } else {
      env.set(variable.name, { value: variable.value, origin: 'env', path });
    }
  });
  for (const [name, { path, secret, optional, origin }] of env) {
    const through = origin === 'env' ? '' : ` (through ${origin})`;
    if (!documented.has(name)) report(at(path), `sets ${name}${through}, which the app does not document in .env.example`);
    if (CREDENTIALS.has(name) && !secret) report(at(path), `${name} is a credential: take it from the Secret (secretKeyRef), not a literal or a ConfigMap`);
    if (REQUIRED_SECRETS.includes(name) && optional) report(at(path), `${name} is required: its secretKeyRef must not be optional`);
  }
  for (const name of REQUIRED_SECRETS) {
    if (env.has(name)) continue;
    report(
      at(['env']),
      name === 'DATABASE_URL'
        ? 'DATABASE_URL is not set: replicas share PostgreSQL, and with a read-only root filesystem there is nowhere for SQLite'
        : `${name} is not set: the service refuses to start without it`,
    );
  }
  return env;
}

function checkProbes({ container, at }, port, resolvePort) {
  const probes = [
    ['livenessProbe', LIVENESS_PATH, 'liveness (the process alone)'],
    ['readinessProbe', READINESS_PATH, 'readiness'],
    // Readiness depends on storage: a slow database at start-up must not get the pod restarted.
    ['startupProbe', LIVENESS_PATH, 'liveness, which a start-up probe must use (readiness waits on storage)'],
  ];
  for (const [field, path, what] of probes) {
    const probe = container[field];
    if (!probe) {
      report(at([]), `has no ${field}: it must be GET ${path}`);
    } else if (!probe.httpGet) {
      report(at([field]), `${field} must be an httpGet on ${path}`);
    } else {
      if (probe.httpGet.path !== path) report(at([field, 'httpGet', 'path']), `${field} requests ${probe.httpGet.path ?? '/'}, but the app serves ${what} at ${path}`);
      const target = resolvePort(probe.httpGet.port);
      if (target !== port) report(at([field, 'httpGet', 'port']), `${field} port ${probe.httpGet.port} is ${target ?? 'no container port'}, but the app listens on ${port}`);
    }
  }
  if (container.readinessProbe && (container.readinessProbe.timeoutSeconds ?? 1) < MIN_READINESS_TIMEOUT_SECONDS) {
    report(at(['readinessProbe']), `readinessProbe.timeoutSeconds must be at least ${MIN_READINESS_TIMEOUT_SECONDS}: the readiness check itself waits up to 1 s for storage`);
  }
}

/** The kubelet runs preStop, then sends SIGTERM, and kills the pod when the grace period ends: the drain must fit. */
function checkGracePeriod({ pod, container, at, podAt }, drain) {
  const preStop = preStopSeconds(container.lifecycle?.preStop);
  if (preStop === undefined) {
    report(at(['lifecycle']), 'needs a preStop sleep (exec ["sleep", "N"]): load balancers keep routing to a terminating pod for a few seconds');
  }
  const grace = pod.terminationGracePeriodSeconds ?? 30;
  const needed = (preStop ?? 0) + drain + MIN_FLUSH_MARGIN_SECONDS;
  if (grace < needed) {
    report(
      podAt(['terminationGracePeriodSeconds']),
      `terminationGracePeriodSeconds is ${grace}, but preStop (${preStop ?? 0} s) + SHUTDOWN_DRAIN_SECONDS (${drain} s) + ` +
        `${MIN_FLUSH_MARGIN_SECONDS} s for the outbox flush need ${needed}: the pod would be killed mid-drain`,
    );
  }
}

/** Non-root (the image's uid), read-only with a writable /tmp, no privileges, resources bounded, volumes resolvable. */
function checkHardening({ pod, container, configMaps, at, podAt }) {
  const podSecurity = pod.securityContext ?? {};
  const security = container.securityContext ?? {};
  const effective = (key) => security[key] ?? podSecurity[key];
  const sPath = ['securityContext'];
  if (effective('runAsNonRoot') !== true) report(at(sPath), 'runAsNonRoot must be true');
  const uid = effective('runAsUser');
  const imageUid = imageUser();
  if (typeof uid !== 'number' || uid === 0) report(at(sPath), `runAsUser must be the image's non-root uid (${imageUid ?? 1000}), got ${uid ?? 'unset'}`);
  else if (imageUid !== undefined && uid !== imageUid) report(at(sPath), `runAsUser ${uid} is not the image's user (Dockerfile USER ${imageUid})`);
  if (security.readOnlyRootFilesystem !== true) report(at(sPath), 'readOnlyRootFilesystem must be true');
  if (security.allowPrivilegeEscalation !== false) report(at(sPath), 'allowPrivilegeEscalation must be false');
  if (security.privileged === true) report(at(sPath), 'must not be privileged');
  if (!(security.capabilities?.drop ?? []).includes('ALL')) report(at(sPath), 'capabilities.drop must include ALL');
  const seccomp = (security.seccompProfile ?? podSecurity.seccompProfile)?.type;
  if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') report(podAt(['securityContext']), `seccompProfile must be RuntimeDefault, got ${seccomp ?? 'unset'}`);

  const volumes = pod.volumes ?? [];
  const mounts = container.volumeMounts ?? [];
  const tmp = mounts.find((m) => m.mountPath === '/tmp');
  if (!tmp || !volumes.find((v) => v.name === tmp.name)?.emptyDir) {
    report(at(['volumeMounts']), 'with a read-only root filesystem /tmp must be a writable emptyDir mount');
  }
  mounts.forEach((mount, i) => {
    if (!volumes.some((v) => v.name === mount.name)) report(at(['volumeMounts', i]), `mounts volume ${mount.name}, which the pod does not define`);
  });
  volumes.forEach((volume, i) => {
    if (!volume.configMap || volume.configMap.optional) return;
    const configMap = configMaps.find((c) => c.object.metadata?.name === volume.configMap.name);
    if (!configMap) report(podAt(['volumes', i]), `volume ${volume.name} uses ConfigMap ${volume.configMap.name}, which is neither a resource nor generated`);
    else for (const item of volume.configMap.items ?? []) if (!(item.key in (configMap.object.data ?? {}))) report(podAt(['volumes', i]), `ConfigMap ${volume.configMap.name} has no key ${item.key}`);
  });

  const resources = container.resources ?? {};
  for (const [kind, name] of [['requests', 'cpu'], ['requests', 'memory'], ['limits', 'memory']]) {
    if (resources[kind]?.[name] === undefined) report(at(['resources']), `resources.${kind}.${name} must be set`);
  }
}

/** The numeric uid of the Dockerfile's last USER, if there is one. */
function imageUser() {
  const dockerfile = join(ROOT, 'Dockerfile');
  if (!existsSync(dockerfile)) return undefined;
  const users = [...readFileSync(dockerfile, 'utf8').matchAll(/^USER\s+(\d+)/gm)];
  return users.length > 0 ? Number(users.at(-1)[1]) : undefined;
}

/** Seconds of an exec preStop that sleeps (["sleep", "5"] or a shell running `sleep 5`); undefined otherwise. */
function preStopSeconds(preStop) {
  const command = preStop?.exec?.command ?? [];
  const text = command[0] === 'sleep' ? command.join(' ') : String(command.at(-1) ?? '');
  const match = /(?:^|\s)sleep\s+(\d+)\s*$/.exec(text);
  return match ? Number(match[1]) : undefined;
}

function checkTenantsMount(tenants, { pod, container, configMaps, at }) {
  const file = tenants.value;
  const mounts = container.volumeMounts ?? [];
  const volumes = pod.volumes ?? [];
  const mount = mounts
    .filter((m) => (m.subPath ? m.mountPath === file : file.startsWith(`${m.mountPath.replace(/\/$/, '')}/`)))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  if (!mount) {
    report(at(tenants.path), `TENANTS_FILE ${file} is not inside any volumeMount`);
    return;
  }
  const volume = volumes.find((v) => v.name === mount.name);
  if (!volume?.configMap) {
    report(at(tenants.path), `TENANTS_FILE ${file} must come from a ConfigMap volume (mount ${mount.name})`);
    return;
  }
  const inVolume = mount.subPath ?? file.slice(mount.mountPath.replace(/\/$/, '').length + 1);
  const items = volume.configMap.items;
  const key = items ? items.find((item) => item.path === inVolume)?.key : inVolume;
  const configMap = configMaps.find((c) => c.object.metadata?.name === volume.configMap.name);
  const text = key === undefined ? undefined : configMap?.object.data?.[key];
  if (text === undefined) {
    report(at(tenants.path), `TENANTS_FILE ${file}: ConfigMap ${volume.configMap.name} provides no such file`);
    return;
  }
  const source = configMap.sources?.[key];
  for (const { line, message } of tenantsProblems(text)) {
    report(source ? `${source}:${line}` : configMap.at(['data', key]), `tenants file (TENANTS_FILE ${file}): ${message}`);
  }
}

/**
 * The shape of a tenants file: profiles, each with a unique name, dialled numbers in E.164 (each claimed by one
 * profile only), and optional instructions, voice and tool names. Fields beyond these are left to the service's own
 * loader, which validates the file completely at start-up.
 */
function tenantsProblems(text) {
  const lineCounter = new LineCounter();
  const doc = parseAllDocuments(text, { lineCounter })[0];
  if (!doc) return [{ line: 1, message: 'is empty' }];
  if (doc.errors.length > 0) {
    return doc.errors.map((error) => ({ line: error.linePos?.[0]?.line ?? 1, message: `does not parse as YAML: ${yamlError(error)}` }));
  }
  const tenants = doc.toJS();
  const found = [];
  const problem = (path, message) => found.push({ line: lineOf(doc, lineCounter, path), message });
  if (!Array.isArray(tenants?.profiles) || tenants.profiles.length === 0) {
    problem(['profiles'], 'must have a non-empty `profiles` list');
    return found;
  }
  const names = new Set();
  const numbers = new Map();
  tenants.profiles.forEach((profile, i) => {
    const name = profile?.name;
    const where = `profile ${typeof name === 'string' ? name : `#${i + 1}`}`;
    if (typeof name !== 'string' || !name.trim()) problem(['profiles', i], `${where}: name must be a non-empty string`);
    else if (names.has(name)) problem(['profiles', i, 'name'], `${where}: the name is used twice`);
    else names.add(name);
    const dialled = profile?.match?.numbers;
    if (!Array.isArray(dialled) || dialled.length === 0) problem(['profiles', i, 'match'], `${where}: match.numbers must list the dialled numbers`);
    (Array.isArray(dialled) ? dialled : []).forEach((number, n) => {
      const path = ['profiles', i, 'match', 'numbers', n];
      if (typeof number !== 'string' || !/^\+[1-9]\d{6,14}$/.test(number)) problem(path, `${where}: ${JSON.stringify(number)} is not an E.164 number (quote it: "+15551234567")`);
      else if (numbers.has(number)) problem(path, `${where}: ${number} is already matched by profile ${numbers.get(number)}`);
      else numbers.set(number, name);
    });
    for (const field of ['instructions', 'voice']) {
      if (profile?.[field] !== undefined && (typeof profile[field] !== 'string' || !profile[field].trim())) problem(['profiles', i, field], `${where}: ${field} must be a non-empty string`);
    }
    if (profile?.tools !== undefined && (!Array.isArray(profile.tools) || !profile.tools.every((t) => typeof t === 'string'))) {
      problem(['profiles', i, 'tools'], `${where}: tools must be a list of tool names`);
    }
  });
  return found;
}

function matches(selector, labels) {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([key, value]) => labels[key] === value);
}

function checkService(service, bridge) {
  const spec = service.object.spec ?? {};
  if (!matches(spec.selector, bridge.labels)) report(service.at(['spec', 'selector']), `selector does not select the pods of Deployment ${bridge.name}`);
  const ports = spec.ports ?? [];
  if (!ports.some((p) => p.port === SERVICE_PORT)) report(service.at(['spec', 'ports']), `must expose port ${SERVICE_PORT}`);
  ports.forEach((p, i) => {
    const target = bridge.resolvePort(p.targetPort ?? p.port);
    if (target !== bridge.port) report(service.at(['spec', 'ports', i, 'targetPort']), `targetPort ${p.targetPort ?? p.port} is ${target ?? 'no container port'}, but the app listens on ${bridge.port}`);
  });
}

function checkDisruptionBudget(pdb, bridge) {
  const spec = pdb.object.spec ?? {};
  if (!matches(spec.selector?.matchLabels, bridge.labels)) report(pdb.at(['spec', 'selector']), `selector does not select the pods of Deployment ${bridge.name}`);
  const blocks =
    (spec.maxUnavailable !== undefined && (spec.maxUnavailable === 0 || spec.maxUnavailable === '0%')) ||
    (spec.minAvailable !== undefined && (spec.minAvailable === '100%' || (typeof spec.minAvailable === 'number' && spec.minAvailable >= bridge.replicas)));
  if (blocks) report(pdb.at(['spec']), `allows no disruption with ${bridge.replicas} replica(s): node drains would hang`);
}

function checkAutoscaler(hpa, bridge) {
  const spec = hpa.object.spec ?? {};
  const target = spec.scaleTargetRef ?? {};
  if (target.kind !== 'Deployment' || target.name !== bridge.name) report(hpa.at(['spec', 'scaleTargetRef']), `must scale Deployment ${bridge.name}`);
  const index = (spec.metrics ?? []).findIndex((m) => m.type === 'Pods' && m.pods?.metric?.name === ACTIVE_CALLS_METRIC);
  if (index < 0) {
    report(hpa.at(['spec', 'metrics']), `must scale on the Pods metric ${ACTIVE_CALLS_METRIC} (CPU does not follow calls: audio never passes through the bridge)`);
    return;
  }
  const average = Number(spec.metrics[index].pods.target?.averageValue);
  if (bridge.maxCalls > 0 && !(average < bridge.maxCalls)) {
    report(hpa.at(['spec', 'metrics', index, 'pods', 'target']), `averageValue ${spec.metrics[index].pods.target?.averageValue} must stay below MAX_CONCURRENT_CALLS (${bridge.maxCalls}), or replicas refuse calls before the autoscaler adds any`);
  }
}

function checkIngress(ingress, services) {
  (ingress.object.spec?.rules ?? []).forEach((rule, r) => {
    (rule.http?.paths ?? []).forEach((route, p) => {
      const backend = route.backend?.service;
      if (!backend) return;
      const service = services.find((s) => s.object.metadata?.name === backend.name);
      const where = ingress.at(['spec', 'rules', r, 'http', 'paths', p, 'backend']);
      if (!service) report(where, `routes to Service ${backend.name}, which is not defined`);
      else if (!(service.object.spec?.ports ?? []).some((sp) => sp.name === backend.port?.name || sp.port === backend.port?.number)) {
        report(where, `routes to a port Service ${backend.name} does not expose`);
      }
    });
  });
}

// --- docker-compose.yml ----------------------------------------------------------------------------------------

function validateCompose(file) {
  const name = file.startsWith(`${ROOT}/`) ? relative(ROOT, file) : file;
  if (!existsSync(file)) {
    report(name, 'not found');
    return;
  }
  const before = problems.length;
  let compose;
  try {
    compose = parse(readFileSync(file, 'utf8'), { merge: true });
  } catch (error) {
    report(name, `YAML: ${yamlError(error)}`);
    return;
  }
  const services = compose?.services ?? {};
  const bridge = services.bridge;
  if (!bridge) {
    report(name, 'has no service `bridge`');
    return;
  }
  const at = `${name} services.bridge`;
  const env = Array.isArray(bridge.environment)
    ? Object.fromEntries(bridge.environment.map((entry) => String(entry).split(/=(.*)/s)))
    : { ...(bridge.environment ?? {}) };
  for (const variable of Object.keys(env)) {
    if (!documented.has(variable)) report(at, `sets ${variable}, which the app does not document in .env.example`);
  }
  if (bridge.read_only !== true) report(at, 'read_only must be true (the image runs with a read-only root filesystem)');
  if (!(bridge.tmpfs ?? []).includes('/tmp')) report(at, 'needs a tmpfs on /tmp');
  if (!JSON.stringify(bridge.healthcheck?.test ?? '').includes(LIVENESS_PATH)) report(at, `healthcheck must probe ${LIVENESS_PATH}`);

  const authority = String(env.DATABASE_URL ?? '').replace(/^[a-z]+:\/\//, '');
  const host = /^([^:/?]+)/.exec(authority.slice(authority.lastIndexOf('@') + 1))?.[1];
  const database = host ? services[host] : undefined;
  if (!env.DATABASE_URL) report(at, 'DATABASE_URL must point at the PostgreSQL service');
  else if (!database) report(at, `DATABASE_URL names host ${host}, which is not a service of this file`);
  else {
    const dbAt = `${name} services.${host}`;
    if (!/^postgres:/.test(String(database.image ?? ''))) report(dbAt, `image must be the official postgres image, got ${database.image}`);
    if (!database.healthcheck?.test) report(dbAt, 'needs a healthcheck (the bridge waits for it)');
    const named = (database.volumes ?? []).some((v) => Object.hasOwn(compose.volumes ?? {}, String(typeof v === 'string' ? v.split(':')[0] : v.source)));
    if (!named) report(dbAt, 'its data must live on a named volume');
    const dependsOn = Array.isArray(bridge.depends_on) ? {} : bridge.depends_on ?? {};
    if (dependsOn[host]?.condition !== 'service_healthy') report(at, `depends_on.${host}.condition must be service_healthy (migrations run at start-up)`);
  }

  const drain = Number(env.SHUTDOWN_DRAIN_SECONDS ?? DEFAULT_DRAIN_SECONDS);
  const grace = durationSeconds(bridge.stop_grace_period ?? '10s');
  if (grace === undefined) report(at, `stop_grace_period ${bridge.stop_grace_period} is not a duration`);
  else if (grace < drain + MIN_FLUSH_MARGIN_SECONDS) {
    report(at, `stop_grace_period is ${grace} s, but SHUTDOWN_DRAIN_SECONDS (${drain} s) + ${MIN_FLUSH_MARGIN_SECONDS} s for the outbox flush need ${drain + MIN_FLUSH_MARGIN_SECONDS}: Docker would kill the bridge mid-drain`);
  }
  if (!Object.values(services).some((s) => (s?.profiles ?? []).includes('demo'))) report(name, 'no service in the `demo` profile (the emulator)');
  if (problems.length === before) checked.push(`${name}: PostgreSQL, healthchecks, documented environment, ${grace} s stop grace for a ${drain} s drain, demo profile`);
}

/** Compose durations: 330s, 5m30s, 1h, 1m30.5s (no unit: seconds). */
function durationSeconds(value) {
  const text = String(value).trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  if (!/^(\d+(\.\d+)?(h|m|s|ms|us|ns))+$/.test(text)) return undefined;
  const scale = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, ns: 1e-9 };
  return [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|ns)/g)].reduce((total, [, n, unit]) => total + Number(n) * scale[unit], 0);
}
