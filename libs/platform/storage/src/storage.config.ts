import { resolve } from 'node:path';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min, ValidateBy, type ValidationOptions } from 'class-validator';
import { defineConfig } from '#config';

/** A `postgres://` or `postgresql://` URL (WHATWG-parsed, so sockets and options in the query string are fine). */
function IsPostgresUrl(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isPostgresUrl',
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return false;
          try {
            const url = new URL(value);
            return url.protocol === 'postgres:' || url.protocol === 'postgresql:';
          } catch {
            return false;
          }
        },
        // Never the value: it usually carries a password.
        defaultMessage: () => 'must be a postgres:// or postgresql:// URL',
      },
    },
    options,
  );
}

class StorageEnv {
  /** PostgreSQL (what several replicas share). Unset: an embedded SQLite file in DATA_DIR. */
  @IsOptional()
  @IsPostgresUrl()
  @MaxLength(4096)
  DATABASE_URL?: string;

  @IsString()
  @MaxLength(4096)
  DATA_DIR = './data';

  /** Days a finished call and its transcript are kept. Unset: kept forever. */
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(36_500)
  TRANSCRIPT_RETENTION_DAYS?: number;

  @Type(() => Number)
  @IsInt()
  @Min(1000)
  @Max(7 * 24 * 3_600_000)
  STORAGE_PURGE_INTERVAL_MS = 3_600_000;
}

/** Where call records live and how long they are kept. `databaseUrl` is a secret: never log it. */
export const storageConfig = defineConfig('storage', StorageEnv, (env) => ({
  databaseUrl: env.DATABASE_URL,
  dataDir: resolve(env.DATA_DIR),
  retentionDays: env.TRANSCRIPT_RETENTION_DAYS,
  purgeIntervalMs: env.STORAGE_PURGE_INTERVAL_MS,
}));

export type StorageConfig = ReturnType<typeof storageConfig>;
