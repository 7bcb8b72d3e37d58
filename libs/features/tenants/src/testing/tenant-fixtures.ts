import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RealtimeFunctionTool } from 'openai/resources/realtime/realtime';
import { loadTenantsFile, type ToolCatalog } from '../load-tenants-file.js';
import type { AgentProfile } from '#calls';

// Fixtures for the unit tests of this library: a deployment's tools and environment agent, and tenants files.

/** A fixed list of tools, as the tool registry reports them. */
export class StaticToolCatalog implements ToolCatalog {
  constructor(private readonly tools: Array<{ name: string; enabled: boolean; disabledBecause?: string }>) {}
  all() {
    return this.tools;
  }
  schemasOf(names: Iterable<string>): RealtimeFunctionTool[] {
    const wanted = new Set(names);
    return this.tools
      .filter((t) => wanted.has(t.name))
      .map((t) => t.name)
      .sort()
      .map((name) => ({ type: 'function', name, description: `${name} tool`, parameters: { type: 'object', properties: {} } }));
  }
}

export const ENVIRONMENT_AGENT: AgentProfile = {
  name: 'default',
  model: 'gpt-realtime',
  instructions: 'You are the environment agent.',
  voice: 'marin',
  transcription: { model: 'gpt-4o-mini-transcribe' },
  turnDetection: 'semantic_vad',
  tools: [{ type: 'function', name: 'end_call', description: 'end_call tool', parameters: { type: 'object', properties: {} } }],
};

/** Only end_call is on; transfer_to_human and lookup_order lack configuration; echo is TOOLS_DISABLED. */
export const CATALOG = new StaticToolCatalog([
  { name: 'end_call', enabled: true },
  { name: 'transfer_to_human', enabled: false, disabledBecause: 'not configured' },
  { name: 'lookup_order', enabled: false, disabledBecause: 'not configured' },
  { name: 'echo', enabled: false, disabledBecause: 'TOOLS_DISABLED' },
]);

/** Writes a tenants file (and any other files) into a fresh directory and loads it. */
export function load(yaml: string, files: Record<string, string> = {}, knowledgeMaxChars = 20_000) {
  const dir = mkdtempSync(join(tmpdir(), 'tenants-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const path = join(dir, 'tenants.yaml');
  writeFileSync(path, yaml);
  return { dir, path, result: loadTenantsFile(path, { base: ENVIRONMENT_AGENT, tools: CATALOG, knowledgeMaxChars }) };
}

