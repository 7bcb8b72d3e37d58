import { timingSafeEqual } from 'node:crypto';
import {
  Inject,
  Injectable,
  NotFoundException,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import type { Request } from 'express';
import { transcriptsConfig } from '../transcripts.config.js';
import type { ConfigType } from '#config';

/**
 * `Authorization: Bearer <ADMIN_API_TOKEN>`. With no token configured the records API does not exist (404): there
 * is no way to read transcripts without one.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(@Inject(transcriptsConfig.KEY) config: ConfigType<typeof transcriptsConfig>) {
    this.expected = config.adminApiToken ? Buffer.from(config.adminApiToken) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) throw new NotFoundException();
    const header = context.switchToHttp().getRequest<Request>().headers.authorization ?? '';
    const match = /^Bearer (\S+)$/i.exec(header);
    const given = Buffer.from(match?.[1] ?? '');
    if (given.length !== this.expected.length || !timingSafeEqual(given, this.expected)) {
      throw new UnauthorizedException('a valid bearer token is required');
    }
    return true;
  }
}
