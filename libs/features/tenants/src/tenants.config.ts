import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Max, Min, ValidateBy } from 'class-validator';
import { defineConfig } from '#config';

/** The largest tenants file read (it holds profiles, not the knowledge itself: that can live in files beside it). */
export const MAX_TENANTS_FILE_BYTES = 1024 * 1024;

class TenantsEnv {
  /** YAML (or JSON) file of agent profiles chosen by the dialled number; unset: the environment's agent for all. */
  @IsOptional()
  @ValidateBy({
    name: 'isTenantsFile',
    validator: {
      validate: (value: unknown) => {
        if (typeof value !== 'string' || value.length > 4096) return false;
        try {
          const stat = statSync(value);
          return stat.isFile() && stat.size <= MAX_TENANTS_FILE_BYTES;
        } catch {
          return false;
        }
      },
      defaultMessage: () => 'must be the path of a readable YAML or JSON file of at most 1 MB',
    },
  })
  TENANTS_FILE?: string;

  /** Most characters of knowledge snippets one profile appends to its instructions. */
  @Type(() => Number)
  @IsInt()
  @Min(1000)
  @Max(400_000)
  TENANTS_KNOWLEDGE_MAX_CHARS = 20_000;
}

export const tenantsConfig = defineConfig('tenants', TenantsEnv, (env) => ({
  file: env.TENANTS_FILE === undefined ? undefined : resolve(env.TENANTS_FILE),
  knowledgeMaxChars: env.TENANTS_KNOWLEDGE_MAX_CHARS,
}));
