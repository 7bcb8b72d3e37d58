import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, resolve, sep } from 'node:path';
import type { IVolumeMount } from 'kubernetes-models/v1';
import { LineCounter, parseDocument } from 'yaml';
import { errorMessage } from '#resilience';
import type { TenantsFileProblem } from '#tenants';
import type { EnvEntry, PodContext } from './deployment.js';
import { lineOf, type YamlPath } from './resources.js';
import { DeploymentTools, withEnvironment, type Environment } from './tool-catalog.js';
import type { Validation } from './validation.js';

interface TenantsCheck {
  /** The files of the ConfigMap volume, by their path in it. */
  volumeFiles: Record<string, string>;
  /** The tenants file's path inside the mount. */
  inMount: string;
  mount: IVolumeMount;
  /** The ConfigMap's name. */
  configMap: string;
  env: Map<string, EnvEntry>;
  at(path: YamlPath): string;
}

/** TENANTS_FILE must be a file of a ConfigMap volume; that file is then loaded as the pod would load it. */
export async function checkTenantsMount(
  v: Validation,
  tenants: EnvEntry & { value: string },
  { pod, container, configMaps, env, at }: PodContext & { env: Map<string, EnvEntry> },
): Promise<void> {
  const file = tenants.value;
  const mounts = container.volumeMounts ?? [];
  const volumes = pod.volumes ?? [];
  const mount = mounts
    .filter((m) => (m.subPath ? m.mountPath === file : file.startsWith(`${m.mountPath.replace(/\/$/, '')}/`)))
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  if (!mount) {
    v.report(at(tenants.path), `TENANTS_FILE ${file} is not inside any volumeMount`);
    return;
  }
  const volume = volumes.find((candidate) => candidate.name === mount.name);
  if (!volume?.configMap) {
    v.report(at(tenants.path), `TENANTS_FILE ${file} must come from a ConfigMap volume (mount ${mount.name})`);
    return;
  }
  const inVolume = mount.subPath ?? file.slice(mount.mountPath.replace(/\/$/, '').length + 1);
  const items = volume.configMap.items;
  const key = items ? items.find((item) => item.path === inVolume)?.key : inVolume;
  const configMap = configMaps.find((c) => c.object.metadata?.name === volume.configMap!.name);
  const data = configMap?.object.data ?? {};
  const text = key === undefined ? undefined : configMap?.object.data?.[key];
  if (text === undefined || key === undefined || !configMap) {
    v.report(at(tenants.path), `TENANTS_FILE ${file}: ConfigMap ${volume.configMap.name} provides no such file`);
    return;
  }
  const source = configMap.sources?.[key];
  const where = (line: number) => (source ? `${source}:${line}` : configMap.at(['data', key]));
  const volumeFiles: Record<string, string> = mount.subPath
    ? { [basename(file)]: text }
    : Object.fromEntries(items ? items.filter((item) => item.key in data).map((item) => [item.path, data[item.key]!]) : Object.entries(data));
  const inMount = mount.subPath ? basename(file) : inVolume;
  for (const { line, message } of await tenantsFileProblems(v, text, { volumeFiles, inMount, mount, configMap: volume.configMap.name ?? '', env, at })) {
    v.report(where(line), `tenants file (TENANTS_FILE ${file}): ${message}`);
  }
}

/**
 * Loads the tenants file as the pod would: the files of its volume (the ConfigMap's keys, or its `items`) are written
 * to a temporary directory standing for the mount, and the service's loader (#tenants) reads them there, with the
 * context the service builds (TenantProfiles): the environment's agent as the base, the tools the service's registry
 * offers in this Deployment's environment (tool-catalog.ts) and the knowledge cap. Returns the problems, each at the
 * line of the tenants file it concerns.
 */
async function tenantsFileProblems(v: Validation, text: string, { volumeFiles, inMount, mount, configMap, env, at }: TenantsCheck): Promise<Array<{ line: number; message: string }>> {
  const { service } = v;
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const found: Array<{ line: number; message: string }> = [];
  const problem = (path: YamlPath, message: string) => found.push({ line: lineOf(doc, lineCounter, path), message });

  // The environment as the container gets it. Values from the Secret are unknown here: such a variable counts as set.
  const known: Environment = Object.fromEntries(
    [...env].filter(([, entry]) => !entry.secret && entry.value !== undefined).map(([name, entry]) => [name, entry.value!]),
  );
  const fromSecret = [...env].filter(([, entry]) => entry.secret === true).map(([name]) => name);

  const directory = mkdtempSync(join(tmpdir(), 'bridge-tenants-'));
  try {
    for (const [path, content] of Object.entries(volumeFiles)) {
      const target = resolve(directory, path);
      if (!target.startsWith(directory + sep)) continue;
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
    }
    const tenantsFile = join(directory, inMount);

    // The service's own configuration, on this Deployment's values (an instructions file would be in the image).
    const { AGENT_INSTRUCTIONS_FILE, ...agentEnv } = known;
    if (AGENT_INSTRUCTIONS_FILE && !agentEnv.AGENT_INSTRUCTIONS) agentEnv.AGENT_INSTRUCTIONS = `(the text of ${AGENT_INSTRUCTIONS_FILE})`;
    let agent: ReturnType<typeof service.calls.agentConfig>;
    let tenants: ReturnType<typeof service.tenants.tenantsConfig>;
    let tools: DeploymentTools;
    try {
      agent = withEnvironment(agentEnv, () => service.calls.agentConfig());
      tenants = withEnvironment({ ...known, TENANTS_FILE: tenantsFile }, () => service.tenants.tenantsConfig());
      tools = await DeploymentTools.of(service, known, fromSecret, v.documented.keys());
    } catch (error) {
      v.report(at(['env']), `the settings the tenant profiles are built with are invalid (the service would not start): ${startupProblems(error)}`);
      return found;
    }
    const base = new service.calls.AgentProfiles(agent).defaultProfile(tools.schemasOf(tools.all().filter((t) => t.enabled).map((t) => t.name)));
    const result = service.tenants.loadTenantsFile(tenantsFile, { base, tools, knowledgeMaxChars: tenants.knowledgeMaxChars });

    if (!result.ok) {
      for (const loaderProblem of result.error.problems) {
        const path = problemPath(loaderProblem);
        const named = doc.getIn(path);
        // A file the tenants file names that the pod would not have: say which, and how to ship it.
        if (/file$/i.test(loaderProblem.field ?? '') && typeof named === 'string' && /\(ENOENT\)$/.test(loaderProblem.message)) {
          const advice = isAbsolute(named)
            ? 'name it relative to the tenants file, in the same ConfigMap'
            : `add it to the configMapGenerator of ${configMap} in kustomization.yaml${mount.subPath ? ', and mount the ConfigMap as a directory (not subPath)' : " (and to the volume's items, if it lists them)"}`;
          problem(path, `${service.tenants.describeProblem({ ...loaderProblem, message: `${named} is not in the ConfigMap volume ${configMap} as the pod mounts it at ${mount.mountPath}: ${advice}` })}`);
          continue;
        }
        const yamlLine = /at line (\d+),/.exec(loaderProblem.message);
        if (yamlLine) found.push({ line: Number(yamlLine[1]), message: service.tenants.describeProblem(loaderProblem) });
        else problem(path, service.tenants.describeProblem(loaderProblem));
      }
      return found;
    }
    // Credentials stay out of ConfigMaps: a profile's own Discord webhooks would need the file in a Secret.
    for (const [name, profile] of [...result.directory.profiles, [result.directory.fallback.agent.name, result.directory.fallback] as const]) {
      if ((profile.notifications?.discord ?? []).length > 0) {
        problem(['profiles', name, 'notifications', 'discord'], `profile "${name}": notifications.discord: Discord webhook URLs are credentials: they belong in a Secret, not a ConfigMap (DISCORD_WEBHOOK_URL in bridge-secrets)`);
      }
    }
    return found;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

/** What the service would say when it refuses to start: each bad variable (or badly declared tool), in one line. */
function startupProblems(error: unknown): string {
  const problems = (error as { problems?: Array<{ variable?: string; problems?: string[]; message?: string }> }).problems;
  if (!Array.isArray(problems)) return errorMessage(error);
  return problems.map((p) => (p.variable !== undefined ? `${p.variable}: ${(p.problems ?? []).join('; ')}` : String(p.message))).join(', ');
}

/** The YAML path a loader problem concerns: `profile "acme": knowledge[0].file` → profiles.acme.knowledge.0.file. */
function problemPath({ profile, field }: TenantsFileProblem): YamlPath {
  const fieldPath = (field ?? '')
    .split(/\.|\[(\d+)\]/)
    .filter((part) => part !== undefined && part !== '')
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
  return profile === undefined ? fieldPath : ['profiles', profile, ...fieldPath];
}
