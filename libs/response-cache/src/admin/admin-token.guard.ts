import { CanActivate, ExecutionContext, Injectable, OnModuleInit, UnauthorizedException } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { createHash, timingSafeEqual } from 'node:crypto';
import { RESPONSE_CACHE_OPTIONS } from '../response-cache.constants';
import type { ResolvedCacheOptions } from '../options/resolve-options';

function digestOf(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/**
 * Admin routes need `Authorization: Bearer <adminToken>`. The comparison runs in constant time
 * (both sides hashed to the same length first). Without a configured token every admin request
 * is refused, with a message that says so (the module's startup log says how to enable the admin API).
 */
@Injectable()
export class AdminTokenGuard implements CanActivate, OnModuleInit {
  private expected?: Buffer;

  constructor(private readonly moduleRef: ModuleRef) {}

  /**
   * Read once at startup, not per request. Looked up app-wide (`strict: false`) because apps bind
   * this guard on their own controllers too (`@UseGuards(AdminTokenGuard)`), in modules that need
   * not import ResponseCacheModule.
   */
  onModuleInit(): void {
    const options = this.moduleRef.get<ResolvedCacheOptions>(RESPONSE_CACHE_OPTIONS, { strict: false });
    if (options.adminToken !== undefined) this.expected = digestOf(options.adminToken);
  }

  canActivate(context: ExecutionContext): boolean {
    const header = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers.authorization;
    const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
    if (this.expected === undefined) {
      // Said apart from a wrong token, so that a client (the CLI) can tell its user what to fix.
      throw new UnauthorizedException(
        'admin API: no admin token is configured, so every request is refused: set adminToken in ResponseCacheModule.forRoot',
      );
    }
    if (match === null || !timingSafeEqual(digestOf(match[1].trim()), this.expected)) {
      throw new UnauthorizedException('admin API: send Authorization: Bearer <admin token>');
    }
    return true;
  }
}
