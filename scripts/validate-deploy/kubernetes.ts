import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { LineCounter, parseAllDocuments, type Document } from 'yaml';
import { checkConsistency } from './deployment.js';
import { lineOf, listYamlFiles, resourceOf, yamlError, type KubernetesObject, type Resource, type YamlPath } from './resources.js';
import { shownPath, type Validation } from './validation.js';
import { errorMessage } from '#resilience';

/** A kubernetes-models class: constructed from an object, it validates it against its kind's JSON schema. */
interface Model {
  new (data: unknown): { validate(): void };
  readonly apiVersion: string;
  readonly kind: string;
}

interface SchemaError {
  instancePath: string;
  message?: string;
  params?: { allowedValues?: unknown[] };
}

interface Kustomization {
  apiVersion?: unknown;
  kind?: unknown;
  resources?: unknown[];
  configMapGenerator?: Array<{ name?: string; files?: unknown[]; envs?: unknown[]; literals?: unknown[] }>;
}

/** The kubernetes-models class for apiVersion/kind, or undefined when there is no schema for it. */
async function modelFor(apiVersion: unknown, kind: unknown): Promise<Model | undefined> {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return undefined;
  if (!/^([a-z0-9.-]+\/)?v[0-9]+((alpha|beta)[0-9]+)?$/.test(apiVersion) || !/^[A-Z][A-Za-z0-9]*$/.test(kind)) return undefined;
  try {
    const Model = ((await import(`kubernetes-models/${apiVersion}`)) as Record<string, unknown>)[kind] as Model | undefined;
    return typeof Model === 'function' && Model.kind === kind && Model.apiVersion === apiVersion ? Model : undefined;
  } catch {
    return undefined;
  }
}

async function validateSchema(v: Validation, resource: Resource): Promise<void> {
  const { apiVersion, kind } = resource.object;
  const Model = await modelFor(apiVersion, kind);
  if (!Model) {
    v.report(
      resource.at(),
      `unknown kind ${kind} (apiVersion ${apiVersion}): the Kubernetes schemas have no such built-in kind, so it cannot ` +
        'be validated. Keep custom resources (ServiceMonitor …) as snippets in the README instead',
    );
    return;
  }
  try {
    new Model(resource.object).validate();
  } catch (error) {
    const details: SchemaError[] = (error as { errors?: SchemaError[] }).errors ?? [{ instancePath: '', message: errorMessage(error) }];
    for (const detail of details) {
      const at: YamlPath = detail.instancePath
        .split('/')
        .slice(1)
        .map((part) => (/^\d+$/.test(part) ? Number(part) : part.replace(/~1/g, '/').replace(/~0/g, '~')));
      const allowed = detail.params?.allowedValues ? ` (${detail.params.allowedValues.join(', ')})` : '';
      v.report(resource.at(at), `${detail.instancePath || '/'} ${detail.message}${allowed} (Kubernetes schema)`);
    }
  }
}

/**
 * Every Kubernetes document under `dir` against the Kubernetes JSON schemas, kustomization.yaml listing what it
 * should (and no example), the ConfigMaps its configMapGenerator makes, then what a schema cannot see
 * (deployment.ts).
 */
export async function validateKubernetes(v: Validation, dir: string): Promise<void> {
  const shown = (file: string) => shownPath(file, dirname(dir));
  const kustomizationFile = join(dir, 'kustomization.yaml');
  if (!existsSync(kustomizationFile)) {
    v.report(shown(kustomizationFile), 'missing: `kubectl apply -k` needs it');
    return;
  }
  const kustomizationText = readFileSync(kustomizationFile, 'utf8');
  const kustomizationCounter = new LineCounter();
  const kustomizationDoc = parseAllDocuments(kustomizationText, { lineCounter: kustomizationCounter })[0] as Document.Parsed | undefined;
  const kustomization = (kustomizationDoc?.toJS() as Kustomization | null | undefined) ?? {};
  const kAt = (path: YamlPath) => `${shown(kustomizationFile)}:${kustomizationDoc ? lineOf(kustomizationDoc, kustomizationCounter, path) : 1}`;
  for (const error of kustomizationDoc?.errors ?? []) v.report(kAt([]), `YAML: ${yamlError(error)}`);
  if (kustomization.apiVersion !== 'kustomize.config.k8s.io/v1beta1' || kustomization.kind !== 'Kustomization') {
    v.report(kAt([]), 'must be apiVersion kustomize.config.k8s.io/v1beta1, kind Kustomization');
  }

  const resources: Resource[] = [];
  const generatorInputs = new Set<string>();
  const localFile = (entry: unknown, path: YamlPath): string | undefined => {
    const file = resolve(dir, String(entry));
    if (!file.startsWith(dir + '/') || !existsSync(file) || !statSync(file).isFile()) {
      v.report(kAt(path), `${entry} is not a file in ${shown(dir)} (only local files are followed)`);
      return undefined;
    }
    return file;
  };

  (kustomization.configMapGenerator ?? []).forEach((generator, g) => {
    const data: Record<string, string> = {};
    const sources: Record<string, string> = {};
    (generator.files ?? []).forEach((entry, i) => {
      const [key, source] = String(entry).includes('=') ? String(entry).split(/=(.*)/s) : [basename(String(entry)), entry];
      const file = localFile(source, ['configMapGenerator', g, 'files', i]);
      if (!file) return;
      data[key!] = readFileSync(file, 'utf8');
      sources[key!] = shown(file);
      generatorInputs.add(file);
    });
    (generator.envs ?? []).forEach((entry, i) => {
      const file = localFile(entry, ['configMapGenerator', g, 'envs', i]);
      if (!file) return;
      generatorInputs.add(file);
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, n) => {
          if (!line.trim() || line.trim().startsWith('#')) return;
          const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
          if (match) data[match[1]!] = match[2]!;
          else v.report(`${shown(file)}:${n + 1}`, `expected NAME=value, got ${JSON.stringify(line.trim().slice(0, 40))}`);
        });
    });
    for (const literal of generator.literals ?? []) {
      const [key, value = ''] = String(literal).split(/=(.*)/s);
      data[key!] = value;
    }
    const object: KubernetesObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: generator.name }, data };
    const resource = resourceOf(shown(kustomizationFile), object, { generatedAt: `${kAt(['configMapGenerator', g])} (configMapGenerator)` });
    resources.push(Object.assign(resource, { sources }));
  });

  const listed = new Set<string>();
  (kustomization.resources ?? []).forEach((entry, i) => {
    const file = localFile(entry, ['resources', i]);
    if (file) listed.add(file);
  });

  for (const file of listYamlFiles(dir)) {
    if (file === kustomizationFile || generatorInputs.has(file)) continue;
    const example = /\.example\.ya?ml$/.test(file);
    if (example && listed.has(file)) {
      v.report(shown(file), 'is an example but kustomization.yaml lists it under resources: `kubectl apply -k` would apply its placeholders (for the Secret: over the real one)');
    } else if (!example && !listed.has(file)) {
      v.report(shown(file), 'is not listed under resources in kustomization.yaml, so `kubectl apply -k` skips it (list it, or name it *.example.yaml)');
    }
    const lineCounter = new LineCounter();
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'), { lineCounter })) {
      for (const error of doc.errors) v.report(`${shown(file)}:${error.linePos?.[0]?.line ?? '?'}`, `YAML: ${yamlError(error)}`);
      if (doc.errors.length > 0) continue;
      const object = doc.toJS() as unknown;
      if (object === null || object === undefined) continue;
      const resource = resourceOf(shown(file), object as KubernetesObject, { doc, lineCounter, example });
      if (typeof object !== 'object' || Array.isArray(object) || !(object as KubernetesObject).apiVersion || !(object as KubernetesObject).kind) {
        v.report(resource.at(), 'not a Kubernetes object: apiVersion and kind are required');
        continue;
      }
      resources.push(resource);
    }
  }

  for (const resource of resources) await validateSchema(v, resource);
  await checkConsistency(v, resources);
  if (v.problems.length === 0) {
    v.checked.push(`${shown(dir)}: ${resources.length} objects valid against the Kubernetes schemas and consistent with the app`);
  }
}
