import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { request } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { CacheTelemetry } from '../observability/cache-telemetry';
import { RESPONSE_CACHE_OPTIONS } from '../response-cache.constants';
import type { WarmPath } from '../response-cache.options';
import type { ResolvedCacheOptions } from '../options/resolve-options';

/** The request header that makes a warming request refresh its entry (its value is secret). */
export const REFRESH_HEADER = 'x-response-cache-refresh';

export interface WarmResult {
  path: string;
  /** The `Host` header the path was warmed under (keys include it unless `keyIncludesHost` is off). */
  host: string;
  status: number;
  xCache: string | null;
  durationMs: number;
  error?: string;
}

/**
 * Fetches the configured paths through the app's own HTTP pipeline (guards, pipes, the cache):
 * once the server listens (startup is never delayed by it), every `intervalSeconds`, and on
 * demand. Each request carries a per-process secret that makes the cache refresh the entry even
 * if it is still fresh. Failures are logged and counted, never fatal.
 *
 * Keys include the `Host` header by default, so a path is warmed under the hosts clients use:
 * `warm.host` (one or several), else `localhost:<port>` (and a startup line says what that means);
 * on demand, the host the caller names, else the `Host` of the admin request itself.
 */
@Injectable()
export class CacheWarmer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ResponseCache');
  private timer?: NodeJS.Timeout;

  /** @internal */
  constructor(
    @Inject(RESPONSE_CACHE_OPTIONS) private readonly options: ResolvedCacheOptions,
    private readonly adapterHost: HttpAdapterHost,
    private readonly telemetry: CacheTelemetry,
  ) {}

  onApplicationBootstrap(): void {
    const warm = this.options.warm;
    if (warm.paths.length === 0) return;
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (server === undefined) return;
    const start = () => {
      const port = (server.address() as AddressInfo | null)?.port;
      if (this.options.keyIncludesHost && warm.hosts === undefined) {
        this.logger.log(
          `warming ${warm.paths.length} path(s) under Host localhost:${port}: keys include the Host header, so the warmed entries ` +
            'serve only requests with that Host. Set warm.host to the host(s) your clients use (or keyIncludesHost: false for an app ' +
            'that answers every host alike).',
        );
      }
      // A scheduled round finds the server closed when the app shuts down: it is skipped, not thrown.
      const round = () => void (server.listening ? this.warm().catch(() => undefined) : undefined);
      if (warm.onStartup) round();
      if (warm.intervalMs > 0) {
        this.timer = setInterval(round, warm.intervalMs);
        this.timer.unref();
      }
    };
    if (server.listening) start();
    else server.once('listening', start);
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /**
   * Warms `paths` (default: the configured list) under each of `hosts` (default: `warm.host`, else
   * `localhost:<port>`), one request after another.
   */
  async warm(paths: readonly WarmPath[] = this.options.warm.paths, hosts?: readonly string[]): Promise<WarmResult[]> {
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    const address = server?.address() as AddressInfo | null | undefined;
    if (address === null || address === undefined || typeof address === 'string') {
      throw new Error('the app is not listening yet: warming goes through its own HTTP server');
    }
    const results: WarmResult[] = [];
    for (const host of hosts ?? this.options.warm.hosts ?? [`localhost:${address.port}`]) {
      for (const item of paths) {
        const target = typeof item === 'string' ? { path: item } : item;
        const result = await this.fetch(address.port, host, target.path, target.headers ?? {});
        results.push(result);
        if (result.error !== undefined || result.status >= 400) {
          this.logger.warn(`warming ${target.path} (Host ${host}) failed: ${result.error ?? `status ${result.status}`}`);
        }
        this.telemetry.warmed(target.path, result.error === undefined && result.status < 400);
      }
    }
    return results;
  }

  private fetch(port: number, host: string, path: string, headers: Record<string, string>): Promise<WarmResult> {
    const started = performance.now();
    return new Promise((resolve) => {
      const done = (status: number, xCache: string | null, error?: string) =>
        resolve({
          path,
          host,
          status,
          xCache,
          durationMs: Math.round((performance.now() - started) * 10) / 10,
          ...(error === undefined ? {} : { error }),
        });
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path,
          method: 'GET',
          headers: { host, ...headers, [REFRESH_HEADER]: this.options.refreshToken },
          timeout: this.options.warm.timeoutMs,
        },
        (res) => {
          res.resume();
          res.on('end', () => done(res.statusCode ?? 0, (res.headers['x-cache'] as string | undefined) ?? null));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.options.warm.timeoutMs} ms`)));
      req.on('error', (error) => done(0, null, error.message));
      req.end();
    });
  }
}
