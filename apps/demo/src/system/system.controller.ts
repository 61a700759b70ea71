import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { Cacheable, NoCache } from 'nestjs-response-cache';
import { ResponseCacheHealthIndicator } from 'nestjs-response-cache/terminus';

const VERSION = { name: 'response-cache-demo', version: '0.1.0' };

@Controller()
export class SystemController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly cacheHealth: ResponseCacheHealthIndicator,
  ) {}

  @Get('api/version')
  @Cacheable({ ttl: 3600, tags: ['version'], cacheControl: { public: true, maxAge: 3600 } })
  version() {
    return VERSION;
  }

  /** Liveness: the process answers. */
  @Get('health')
  @NoCache()
  @HealthCheck()
  live() {
    return this.health.check([]);
  }

  /** Readiness: a cache store that is down makes the app degraded, not unready. */
  @Get('health/ready')
  @NoCache()
  @HealthCheck()
  ready() {
    return this.health.check([() => this.cacheHealth.check('cache')]);
  }
}
