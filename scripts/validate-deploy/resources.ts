import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Document, LineCounter } from 'yaml';
import { errorMessage } from '#resilience';

/** A YAML path: keys and sequence indices, as `Document.getIn` takes it. */
export type YamlPath = Array<string | number>;

/** What every Kubernetes object has; each check reads its kind's own fields through kubernetes-models' types. */
export interface KubernetesObject {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: string };
  [field: string]: unknown;
}

/**
 * A parsed object and where it came from, so a problem can name the file and line. Objects with `generatedAt` are
 * the ConfigMaps kustomize makes from configMapGenerator (located at their generator entry).
 */
export interface Resource<T = KubernetesObject> {
  file: string;
  object: T;
  /** A `*.example.yaml`: shown, never applied. */
  example: boolean;
  /** `Kind/name`. */
  label: string;
  /** `file:line Kind/name` of the deepest node of `path` that exists. */
  at(path?: YamlPath): string;
  /** For generated ConfigMaps: each data key's source file, as shown in messages. */
  sources?: Record<string, string>;
}

export interface ResourceOrigin {
  doc?: Document;
  lineCounter?: LineCounter;
  example?: boolean;
  generatedAt?: string;
}

export function resourceOf<T extends KubernetesObject>(file: string, object: T, { doc, lineCounter, example = false, generatedAt }: ResourceOrigin = {}): Resource<T> {
  const label = `${object?.kind ?? '?'}/${object?.metadata?.name ?? '?'}`;
  return {
    file,
    object,
    example,
    label,
    at(path = []) {
      if (generatedAt) return `${generatedAt} ${label}`;
      return `${file}:${doc && lineCounter ? lineOf(doc, lineCounter, path) : 1} ${label}`;
    },
  };
}

/** The line of the deepest node of `path` that exists in the YAML document. */
export function lineOf(doc: Document, lineCounter: LineCounter, path: YamlPath): number {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = (depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true)) as { range?: [number, number, number] } | null | undefined;
    if (node?.range) return lineCounter.linePos(node.range[0]).line;
  }
  return 1;
}

/** The first line of a YAML parse error (the rest is a code excerpt). */
export function yamlError(error: unknown): string {
  return errorMessage(error).split('\n')[0]!.replace(/:$/, '');
}

export function listYamlFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...listYamlFiles(path));
    else if (/\.ya?ml$/.test(entry.name)) files.push(path);
  }
  return files;
}
