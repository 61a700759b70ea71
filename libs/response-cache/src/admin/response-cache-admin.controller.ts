import { BadRequestException, Body, Controller, HttpCode, Post, UseGuards } from '@nestjs/common';
import { CacheWarmer, WarmResult } from '../engine/cache-warmer.service';
import { AdminTokenGuard } from './admin-token.guard';

/** The cache's admin routes (module extra `adminRoutes: true`), behind the admin token. */
@Controller('admin/cache')
@UseGuards(AdminTokenGuard)
export class ResponseCacheAdminController {
  constructor(private readonly warmer: CacheWarmer) {}

  /** Body `{ "paths"?: ["/api/users", …] }` (default: the configured warm list). */
  @Post('warm')
  @HttpCode(200)
  async warm(@Body() body: unknown): Promise<{ results: WarmResult[] }> {
    const paths = (body ?? {}) as { paths?: unknown };
    if (typeof paths !== 'object' || Array.isArray(paths)) throw new BadRequestException('the body must be a JSON object');
    if (paths.paths !== undefined) {
      if (!Array.isArray(paths.paths) || paths.paths.length > 100 || paths.paths.some((p) => typeof p !== 'string' || !p.startsWith('/'))) {
        throw new BadRequestException('"paths" must be an array of at most 100 paths that start with "/"');
      }
      return { results: await this.warmer.warm(paths.paths as string[]) };
    }
    return { results: await this.warmer.warm() };
  }
}
