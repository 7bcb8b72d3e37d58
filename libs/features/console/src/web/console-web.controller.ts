import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Controller, Get, Inject, Logger, NotFoundException, Param, Res, type OnApplicationBootstrap } from '@nestjs/common';
import type { Response } from 'express';
import { consoleConfig } from '../console.config.js';
import { defaultAssetsDir, SECURITY_HEADERS } from './console-assets.js';
import { AdminCredentials } from '#auth';
import type { ConfigType } from '#config';

/** Built asset names: Vite's hashed files (nothing with a slash or a dot-dot can name a file outside the folder). */
const ASSET = /^[A-Za-z0-9_.-]{1,200}$/;

/**
 * The console's pages and assets. Every path under `/console` that is not an asset or the API is the application
 * (its router shows "not found" for what it does not know); a missing asset is a 404. Nothing here needs a session:
 * the page is public code, the data behind it is not.
 */
@Controller('console')
export class ConsoleWebController implements OnApplicationBootstrap {
  private readonly logger = new Logger('Console');
  private readonly dir: string;
  private readonly index: string;

  constructor(
    @Inject(consoleConfig.KEY) config: ConfigType<typeof consoleConfig>,
    private readonly credentials: AdminCredentials,
  ) {
    this.dir = config.assetsDir ?? defaultAssetsDir();
    this.index = join(this.dir, 'index.html');
  }

  /** Whether the console is served: a token to sign in with, and the built application. */
  get available(): boolean {
    return this.credentials.enabled && existsSync(this.index);
  }

  onApplicationBootstrap(): void {
    if (!this.credentials.enabled) this.logger.log('console off: set ADMIN_API_TOKEN to serve it at /console');
    else if (!existsSync(this.index)) this.logger.warn(`console off: no built console at ${this.dir} (npm run build makes it)`);
    else this.logger.log('console at /console (sign in with ADMIN_API_TOKEN)');
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() response: Response): void {
    if (!this.credentials.enabled || !ASSET.test(file) || file.startsWith('.')) throw new NotFoundException();
    const path = join(this.dir, 'assets', file);
    if (!existsSync(path)) throw new NotFoundException();
    response.set(SECURITY_HEADERS);
    // Hashed names: a file's content never changes under its name.
    response.sendFile(path, { maxAge: '365d', immutable: true, dotfiles: 'deny' });
  }

  @Get('api/*rest')
  unknownApi(): never {
    throw new NotFoundException();
  }

  @Get()
  root(@Res() response: Response): void {
    this.page([], response);
  }

  @Get('*path')
  page(@Param('path') path: string[] | string, @Res() response: Response): void {
    if (!this.available) throw new NotFoundException();
    response.set(SECURITY_HEADERS);
    response.setHeader('cache-control', 'no-cache');
    // A file of the build's root (the icon), else the application.
    const [only, ...rest] = Array.isArray(path) ? path : [path];
    const file = rest.length === 0 && only !== undefined && ASSET.test(only) && only.includes('.') && !only.startsWith('.') ? join(this.dir, only) : undefined;
    response.sendFile(file !== undefined && existsSync(file) ? file : this.index, { dotfiles: 'deny' });
  }
}
