import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { defineConfig } from './define-config.js';

class AppEnv {
  @Type(() => Number)
  @IsInt()
  @Min(0)
  @Max(65535)
  PORT = 8080;

  @IsOptional()
  @IsString()
  HOST?: string;

  /**
   * Which proxies in front of the bridge to believe about the client's address and scheme (`X-Forwarded-For`,
   * `X-Forwarded-Proto`): `false` (none, the default), `true` (any), a number of hops, or a comma-separated list of
   * addresses, subnets, `loopback`, `linklocal`, `uniquelocal` (Express's `trust proxy`). It decides the address the
   * sign-in rate limit counts and whether the session cookie is marked Secure.
   */
  @IsOptional()
  @Matches(/^(true|false|\d{1,2}|((loopback|linklocal|uniquelocal|[0-9A-Fa-f:.]+(\/\d{1,3})?)(\s*,\s*(loopback|linklocal|uniquelocal|[0-9A-Fa-f:.]+(\/\d{1,3})?))*))$/, {
    message: 'must be true, false, a number of hops, or a comma-separated list of addresses, subnets, loopback, linklocal, uniquelocal',
  })
  TRUST_PROXY?: string;
}

/** Process-level settings of the deployable service. */
export const appConfig = defineConfig('app', AppEnv, (env) => ({
  port: env.PORT,
  host: env.HOST ?? '0.0.0.0',
  trustProxy: trustProxy(env.TRUST_PROXY),
}));

function trustProxy(value: string | undefined): boolean | number | string {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}
