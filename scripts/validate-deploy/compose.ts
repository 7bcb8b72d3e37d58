import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { DEFAULT_DRAIN_SECONDS, LIVENESS_PATH, MIN_FLUSH_MARGIN_SECONDS } from './contract.js';
import { yamlError } from './resources.js';
import { shownPath, type Validation } from './validation.js';

interface ComposeService {
  image?: string;
  environment?: string[] | Record<string, unknown>;
  read_only?: boolean;
  tmpfs?: string[];
  healthcheck?: { test?: unknown };
  volumes?: Array<string | { source?: string }>;
  depends_on?: string[] | Record<string, { condition?: string }>;
  stop_grace_period?: string | number;
  profiles?: string[];
}

interface ComposeFile {
  services?: Record<string, ComposeService | undefined>;
  volumes?: Record<string, unknown>;
}

/**
 * docker-compose.yml: PostgreSQL wired with a healthcheck, the bridge's environment documented, its stop grace
 * period covering the drain, the demo profile present.
 */
export function validateCompose(v: Validation, file: string): void {
  const name = shownPath(file);
  if (!existsSync(file)) {
    v.report(name, 'not found');
    return;
  }
  const before = v.problems.length;
  let compose: ComposeFile | null;
  try {
    compose = parse(readFileSync(file, 'utf8'), { merge: true }) as ComposeFile | null;
  } catch (error) {
    v.report(name, `YAML: ${yamlError(error)}`);
    return;
  }
  const services = compose?.services ?? {};
  const bridge = services.bridge;
  if (!bridge) {
    v.report(name, 'has no service `bridge`');
    return;
  }
  const at = `${name} services.bridge`;
  const env: Record<string, unknown> = Array.isArray(bridge.environment)
    ? Object.fromEntries(bridge.environment.map((entry) => String(entry).split(/=(.*)/s)))
    : { ...(bridge.environment ?? {}) };
  for (const variable of Object.keys(env)) {
    if (!v.documented.has(variable)) v.report(at, `sets ${variable}, which the app does not document in .env.example`);
  }
  if (bridge.read_only !== true) v.report(at, 'read_only must be true (the image runs with a read-only root filesystem)');
  if (!(bridge.tmpfs ?? []).includes('/tmp')) v.report(at, 'needs a tmpfs on /tmp');
  if (!JSON.stringify(bridge.healthcheck?.test ?? '').includes(LIVENESS_PATH)) v.report(at, `healthcheck must probe ${LIVENESS_PATH}`);

  const authority = String(env.DATABASE_URL ?? '').replace(/^[a-z]+:\/\//, '');
  const host = /^([^:/?]+)/.exec(authority.slice(authority.lastIndexOf('@') + 1))?.[1];
  const database = host ? services[host] : undefined;
  if (!env.DATABASE_URL) v.report(at, 'DATABASE_URL must point at the PostgreSQL service');
  else if (!database) v.report(at, `DATABASE_URL names host ${host}, which is not a service of this file`);
  else {
    const dbAt = `${name} services.${host}`;
    if (!/^postgres:/.test(String(database.image ?? ''))) v.report(dbAt, `image must be the official postgres image, got ${database.image}`);
    if (!database.healthcheck?.test) v.report(dbAt, 'needs a healthcheck (the bridge waits for it)');
    const named = (database.volumes ?? []).some((volume) => Object.hasOwn(compose?.volumes ?? {}, String(typeof volume === 'string' ? volume.split(':')[0] : volume.source)));
    if (!named) v.report(dbAt, 'its data must live on a named volume');
    const dependsOn = Array.isArray(bridge.depends_on) ? {} : (bridge.depends_on ?? {});
    if (dependsOn[host!]?.condition !== 'service_healthy') v.report(at, `depends_on.${host}.condition must be service_healthy (migrations run at start-up)`);
  }

  const drain = Number(env.SHUTDOWN_DRAIN_SECONDS ?? DEFAULT_DRAIN_SECONDS);
  const grace = durationSeconds(bridge.stop_grace_period ?? '10s');
  if (grace === undefined) v.report(at, `stop_grace_period ${bridge.stop_grace_period} is not a duration`);
  else if (grace < drain + MIN_FLUSH_MARGIN_SECONDS) {
    v.report(at, `stop_grace_period is ${grace} s, but SHUTDOWN_DRAIN_SECONDS (${drain} s) + ${MIN_FLUSH_MARGIN_SECONDS} s for the outbox flush need ${drain + MIN_FLUSH_MARGIN_SECONDS}: Docker would kill the bridge mid-drain`);
  }
  if (!Object.values(services).some((service) => (service?.profiles ?? []).includes('demo'))) v.report(name, 'no service in the `demo` profile (the emulator)');
  if (v.problems.length === before) v.checked.push(`${name}: PostgreSQL, healthchecks, documented environment, ${grace} s stop grace for a ${drain} s drain, demo profile`);
}

/** Compose durations: 330s, 5m30s, 1h, 1m30.5s (no unit: seconds). */
function durationSeconds(value: unknown): number | undefined {
  const text = String(value).trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  if (!/^(\d+(\.\d+)?(h|m|s|ms|us|ns))+$/.test(text)) return undefined;
  const scale: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, ns: 1e-9 };
  return [...text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|ns)/g)].reduce((total, [, n, unit]) => total + Number(n) * scale[unit!]!, 0);
}
