import { createHash, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { authConfig } from './auth.config.js';
import type { Role } from './roles.js';
import type { ConfigType } from '#config';

interface Credential {
  digest: Buffer;
  role: Role;
}

/**
 * The tokens that may sign in or call the API, and the role each grants. A token is compared by its SHA-256 digest
 * with `timingSafeEqual`, so neither its content nor its length leaks through the time a wrong guess takes; every
 * credential is compared, whichever matches.
 */
@Injectable()
export class AdminCredentials {
  private readonly credentials: Credential[];

  constructor(@Inject(authConfig.KEY) config: ConfigType<typeof authConfig>) {
    this.credentials = config.adminApiToken ? [{ digest: digest(config.adminApiToken), role: 'admin' }] : [];
  }

  /** Whether any token is configured (without one, the records API and the console do not exist). */
  get enabled(): boolean {
    return this.credentials.length > 0;
  }

  /** The role `token` grants, or undefined. */
  roleOf(token: string): Role | undefined {
    const given = digest(token);
    let role: Role | undefined;
    for (const credential of this.credentials) {
      if (timingSafeEqual(given, credential.digest) && role === undefined) role = credential.role;
    }
    return role;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
