import { CONTROL } from '../key/cache-key';
import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Headers,
  Inject,
  Logger,
  NotFoundException,
  OnModuleInit,
  Param,
  Post,
  Query,
  ServiceUnavailableException,
  UseGuards,
} from '@nestjs/common';
import { CacheWarmer, WarmResult } from '../engine/cache-warmer.service';
import { warmHosts } from '../options/option-checks';
import { RESPONSE_CACHE_OPTIONS } from '../response-cache.constants';
import type { ResolvedCacheOptions } from '../options/resolve-options';
import { CacheEngine } from '../engine/cache-engine';
import { CacheStats } from '../observability/cache-stats';
import { CacheStore, KeyPage } from '../store/cache-store';
import { ResilientCacheStore } from '../store/resilient.store';
import { AdminTokenGuard } from './admin-token.guard';
import { EdgePurger } from '../edge/edge-purger';
import type { EdgeStatus } from '../edge/edge-purger';

const MAX_PATTERN_DELETES = 10_000;

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestException('the body must be a JSON object');
  return body as Record<string, unknown>;
}

function pattern(value: unknown, field = 'pattern'): string {
  if (typeof value !== 'string' || value === '' || value.length > 512 || CONTROL.test(value)) {
    throw new BadRequestException(`"${field}" must be a glob (* ? [abc]) of 1 to 512 characters without control characters`);
  }
  return value;
}

function stringList(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 1000 || value.some((v) => typeof v !== 'string' || v === '' || CONTROL.test(v))) {
    throw new BadRequestException(`"${field}" must be an array of at most 1000 non-empty strings without control characters`);
  }
  return value as string[];
}

/**
 * The cache's admin API (module extra `adminRoutes: true`), behind the admin token: stats,
 * health, keys (paged by cursor, never a blocking full scan), delete, invalidate, clear, warm.
 */
@Controller('admin/cache')
@UseGuards(AdminTokenGuard)
export class ResponseCacheAdminController implements OnModuleInit {
  constructor(
    private readonly cache: CacheEngine,
    private readonly stats: CacheStats,
    private readonly warmer: CacheWarmer,
    @Inject(CacheStore) private readonly store: CacheStore,
    @Inject(RESPONSE_CACHE_OPTIONS) private readonly options: ResolvedCacheOptions,
    private readonly edgePurger: EdgePurger,
  ) {}

  onModuleInit(): void {
    if (this.options.adminToken === undefined) {
      new Logger('ResponseCache').log('admin API disabled: set the adminToken option of ResponseCacheModule to enable it');
    }
  }

  @Get('stats')
  async getStats() {
    const [health, size] = await Promise.all([this.health(), this.store.stats().catch(() => ({ entries: 0, sizeBytes: 0 }))]);
    const edge = this.edgePurger.status();
    return {
      ...this.stats.figures(),
      ...size,
      store: { type: this.store.name, healthy: health.healthy, latencyMs: health.latencyMs },
      ...(edge === undefined ? {} : { edge }),
    };
  }

  /** The edge in front (module option `edge`): its purges, and those pending a retry. 404 without an edge. */
  @Get('edge')
  edge(): EdgeStatus {
    const status = this.edgePurger.status();
    if (status === undefined) throw new NotFoundException('no edge is configured (the edge option of ResponseCacheModule)');
    return status;
  }

  @Get('health')
  async health(): Promise<{ store: string; healthy: boolean; latencyMs: number; circuit?: string; error?: string }> {
    const started = performance.now();
    const circuit = this.store instanceof ResilientCacheStore ? { circuit: this.store.circuit } : {};
    try {
      await this.store.ping();
      return { store: this.store.name, healthy: true, latencyMs: Math.round((performance.now() - started) * 100) / 100, ...circuit };
    } catch (error) {
      const latencyMs = Math.round((performance.now() - started) * 100) / 100;
      return {
        store: this.store.name,
        healthy: false,
        latencyMs,
        ...circuit,
        error: error instanceof Error ? error.message : String(error),
      };
    }
  }

  @Get('keys')
  async keys(@Query('pattern') rawPattern?: string, @Query('limit') rawLimit?: string, @Query('cursor') cursor?: string): Promise<KeyPage> {
    const glob = rawPattern === undefined ? '*' : pattern(rawPattern);
    const limit = rawLimit === undefined ? 100 : Number(rawLimit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new BadRequestException('"limit" must be a whole number from 1 to 1000');
    if (cursor !== undefined && !/^\d+(:\d+)?$/.test(cursor))
      throw new BadRequestException('"cursor" must be a cursor returned by a previous page');
    return this.storeCall(() => this.store.keys(glob, limit, cursor));
  }

  @Delete('keys/:key')
  async deleteKey(@Param('key') key: string): Promise<{ deleted: boolean }> {
    if (key === '' || CONTROL.test(key)) throw new BadRequestException('the key must be URL-encoded and without control characters');
    return { deleted: await this.cache.delete(key) };
  }

  /** Body `{ "tags"?: [], "keys"?: [], "pattern"?: "" }` → what was invalidated. */
  @Post('invalidate')
  @HttpCode(200)
  async invalidate(@Body() body: unknown): Promise<{ tags: number; keys: number; pattern: number }> {
    const input = objectBody(body);
    const tags = stringList(input.tags, 'tags');
    const keys = stringList(input.keys, 'keys');
    const glob = input.pattern === undefined ? undefined : pattern(input.pattern);
    if (tags.length === 0 && keys.length === 0 && glob === undefined) {
      throw new BadRequestException('name something to invalidate: "tags", "keys" and/or "pattern"');
    }
    if (tags.length > 0 && !(await this.cache.invalidateTags(tags)))
      throw new ServiceUnavailableException('the cache store did not take the invalidation; it is retried in the background');
    let deletedKeys = 0;
    for (const key of keys) if (await this.cache.delete(key)) deletedKeys++;
    let byPattern = 0;
    if (glob !== undefined) {
      let cursor: string | undefined;
      do {
        const page: KeyPage = await this.storeCall(() => this.store.keys(glob, 500, cursor));
        for (const key of page.keys) if (await this.cache.delete(key)) byPattern++;
        cursor = page.cursor;
      } while (cursor !== undefined && byPattern < MAX_PATTERN_DELETES);
    }
    return { tags: tags.length, keys: deletedKeys, pattern: byPattern };
  }

  /** Body must be `{ "confirm": true }`. Clears only this cache's entries (its prefix). */
  @Post('clear')
  @HttpCode(200)
  async clear(@Body() body: unknown): Promise<{ cleared: true }> {
    if (objectBody(body).confirm !== true) throw new BadRequestException('send { "confirm": true } to clear the cache');
    if (!(await this.cache.clear()))
      throw new ServiceUnavailableException('the cache store did not clear; it is retried in the background');
    return { cleared: true };
  }

  /** Body `{ "paths"?: ["/api/users", …] }` (default: the configured warm list). */
  @Post('warm')
  @HttpCode(200)
  async warm(@Body() body: unknown, @Headers('host') requestHost: string | undefined): Promise<{ results: WarmResult[] }> {
    const input = body === undefined || body === null || body === '' ? {} : objectBody(body);
    if (input.paths !== undefined) {
      if (!Array.isArray(input.paths) || input.paths.length > 100 || input.paths.some((p) => typeof p !== 'string' || !p.startsWith('/'))) {
        throw new BadRequestException('"paths" must be an array of at most 100 paths that start with "/"');
      }
    }
    // Under the host the caller names, else the one it reached this app by: its next GET hits.
    let hosts: readonly string[] | undefined;
    try {
      const named = input.host ?? requestHost;
      hosts = named === undefined ? undefined : warmHosts('host', named);
    } catch {
      throw new BadRequestException('"host" must be a Host header value (e.g. "api.example.com") or a list of 1 to 20 of them');
    }
    return { results: await this.warmer.warm((input.paths as string[] | undefined) ?? undefined, hosts) };
  }

  private async storeCall<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof RangeError) throw new BadRequestException(error.message);
      throw new ServiceUnavailableException(`the cache store did not answer: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
