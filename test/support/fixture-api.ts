import {
  Body,
  CanActivate,
  Controller,
  Delete,
  ExecutionContext,
  Get,
  HttpCode,
  INestApplication,
  Injectable,
  Module,
  Param,
  Patch,
  Post,
  Put,
  Query,
  Req,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { Cacheable, InvalidateTags, ResponseCacheModule } from 'nestjs-response-cache';
import type { ResponseCacheModuleOptions } from 'nestjs-response-cache';
import { prometheusMetrics } from 'nestjs-response-cache/prometheus';
import { ManualClock } from 'nestjs-response-cache/testing';
import { Registry } from 'prom-client';
import { Adapter, bootApp } from './boot-app';
import { FixtureData, IdPipe } from './fixture-data';

/**
 * The library suites' app: the demo's public routes (users, posts, per-user jobs, version) with the
 * demo's decorators, option for option (apps/demo/src), over the in-memory rows of fixture-data.ts
 * instead of PostgreSQL. The cache is configured as the demo configures it by default (the
 * library's defaults, the admin routes, Prometheus metrics in a registry of the app's own, the
 * fast lane on unless TEST_FAST_LANE=false), with a ManualClock.
 */

/** The posts on a page of the list (the demo's `resultTags`). */
function postsOnPage(page: { posts: readonly { id: number }[] }): string[] {
  return page.posts.map((post) => `post:${post.id}`);
}

const number = (raw: unknown, fallback: number) => (typeof raw === 'string' ? Number(raw) : fallback);

@Controller('api/users')
class UsersController {
  constructor(private readonly db: FixtureData) {}

  @Get()
  @Cacheable({ tags: ['users'] })
  async list() {
    return { users: await this.db.listUsers() };
  }

  @Get(':id')
  @Cacheable({ tags: ['users', 'user:{id}'] })
  async get(@Param('id', IdPipe) id: number) {
    return { user: await this.db.getUser(id) };
  }

  @Post()
  @InvalidateTags('users')
  async create(@Body() body: unknown) {
    return { user: await this.db.createUser(body) };
  }

  @Put(':id')
  @InvalidateTags('users', 'user:{id}')
  async update(@Param('id', IdPipe) id: number, @Body() body: unknown) {
    return { user: await this.db.updateUser(id, body) };
  }

  @Delete(':id')
  @HttpCode(204)
  @InvalidateTags('users', 'user:{id}', 'posts')
  async remove(@Param('id', IdPipe) id: number): Promise<void> {
    await this.db.deleteUser(id);
  }
}

@Controller('api/posts')
class PostsController {
  constructor(private readonly db: FixtureData) {}

  @Get()
  @Cacheable({ tags: ['posts'], resultTags: postsOnPage })
  async list(@Query('page') pageRaw?: unknown, @Query('limit') limitRaw?: unknown, @Query('authorId') authorRaw?: unknown) {
    const page = number(pageRaw, 1);
    const limit = number(limitRaw, 10);
    const { posts, total } = await this.db.listPosts(page, limit, authorRaw === undefined ? undefined : number(authorRaw, 0));
    return { posts, page, limit, total };
  }

  @Get(':id')
  @Cacheable({ tags: ['posts', 'post:{id}'] })
  async get(@Param('id', IdPipe) id: number) {
    return { post: await this.db.getPost(id) };
  }

  @Post()
  @InvalidateTags('posts')
  async create(@Body() body: unknown) {
    return { post: await this.db.createPost(body) };
  }

  @Put(':id')
  @InvalidateTags('posts', 'post:{id}')
  async update(@Param('id', IdPipe) id: number, @Body() body: unknown) {
    return { post: await this.db.updatePost(id, body) };
  }

  @Delete(':id')
  @HttpCode(204)
  @InvalidateTags('posts', 'post:{id}')
  async remove(@Param('id', IdPipe) id: number): Promise<void> {
    await this.db.deletePost(id);
  }
}

interface Caller {
  user: { id: string };
}

/** The demo's stand-in for authentication: `Authorization: Bearer <user>` sets `request.user.id`. */
@Injectable()
class BearerUserGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; user?: { id: string } }>();
    const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (match === null || !/^[A-Za-z0-9_.-]{1,64}$/.test(match[1])) throw new UnauthorizedException('send Authorization: Bearer <user>');
    request.user = { id: match[1] };
    return true;
  }
}

const OWN_JOBS = 'jobs:{user}';

@Controller('api/jobs')
@UseGuards(BearerUserGuard)
class JobsController {
  constructor(private readonly db: FixtureData) {}

  @Get()
  @Cacheable({ scope: 'user', ttl: 60, tags: [OWN_JOBS] })
  async list(@Req() request: Caller) {
    return { jobs: await this.db.listJobs(request.user.id) };
  }

  @Get(':id')
  @Cacheable({ scope: 'user', ttl: 60, tags: ['job:{id}'] })
  async get(@Req() request: Caller, @Param('id', IdPipe) id: number) {
    return { job: await this.db.getJob(request.user.id, id) };
  }

  @Post()
  @InvalidateTags(OWN_JOBS)
  async create(@Req() request: Caller, @Body() body: unknown) {
    return { job: await this.db.createJob(request.user.id, body) };
  }

  @Patch(':id/status')
  @InvalidateTags('job:{id}', OWN_JOBS)
  async setStatus(@Req() request: Caller, @Param('id', IdPipe) id: number, @Body() body: unknown) {
    return { job: await this.db.setJobStatus(request.user.id, id, body) };
  }
}

@Controller('api/version')
class VersionController {
  @Get()
  @Cacheable({ ttl: 3600, tags: ['version'], cacheControl: { public: true, maxAge: 3600 } })
  version() {
    return { name: 'response-cache-demo', version: '0.1.0' };
  }
}

export interface RunningFixture {
  app: INestApplication;
  url: string;
  clock: ManualClock;
  /** The rows, their `settings` (latency, failure rate) and the count of calls by operation. */
  data: FixtureData;
  /** Status codes of every response the server wrote, in order. */
  statuses: number[];
  /** The app's Prometheus registry in text format (the cache's metrics). */
  metrics(): Promise<string>;
  close(): Promise<void>;
}

/**
 * Boots the fixture app on `adapter` on a free port with `clock`; `cacheOptions` are laid over the
 * module's options as the demo lays its tests' options over those of its environment.
 */
export async function startFixture(
  adapter: Adapter,
  cacheOptions: Partial<ResponseCacheModuleOptions> = {},
  clock = new ManualClock(),
): Promise<RunningFixture> {
  const data = new FixtureData();
  const registry = new Registry();
  @Module({
    imports: [
      ResponseCacheModule.forRoot({
        adminRoutes: true,
        metrics: prometheusMetrics({ registry }),
        clock,
        // `npm run test:lane-off` runs these suites again with the fast lane off.
        fastLane: process.env.TEST_FAST_LANE !== 'false',
        ...cacheOptions,
      }),
    ],
    controllers: [UsersController, PostsController, JobsController, VersionController],
    providers: [{ provide: FixtureData, useValue: data }],
  })
  class FixtureApiModule {}
  const { app, url } = await bootApp(adapter, FixtureApiModule);
  const statuses: number[] = [];
  const server = app.getHttpServer() as import('node:http').Server;
  server.on('request', (_req, res) => res.on('finish', () => statuses.push(res.statusCode)));
  return { app, url, clock, data, statuses, metrics: () => registry.metrics(), close: () => app.close() };
}

/** Calls to the fixture's data layer so far (the demo's `dbQueries`). */
export function dbQueries(fixture: RunningFixture): number {
  return fixture.data.total;
}
