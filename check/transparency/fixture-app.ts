import {
  ArgumentsHost,
  Body,
  CallHandler,
  CanActivate,
  Catch,
  ClassSerializerInterceptor,
  Controller,
  ExceptionFilter,
  ExecutionContext,
  ForbiddenException,
  Get,
  Head,
  Header,
  HttpCode,
  HttpException,
  INestApplication,
  Inject,
  Injectable,
  MiddlewareConsumer,
  Module,
  NestInterceptor,
  NestMiddleware,
  NotFoundException,
  Param,
  ParseIntPipe,
  PipeTransform,
  Post,
  Query,
  SerializeOptions,
  UseFilters,
  UseGuards,
  UseInterceptors,
  Version,
  VERSION_NEUTRAL,
  VersioningType,
} from '@nestjs/common';
import { APP_INTERCEPTOR, NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Exclude, Expose } from 'class-transformer';
import { Cacheable, CacheStore, InvalidateTags, MemoryCacheStore, ResponseCacheModule } from 'nestjs-response-cache';
import { ManualClock } from 'nestjs-response-cache/testing';
import { RedisCacheStore, createRedisClient } from 'nestjs-response-cache/redis';
import { Observable, map } from 'rxjs';

/** The fixture's data: the same writes reach the app with the cache off and the one with it on. */
class Data {
  items = new Map<string, number>([
    ['featured', 1],
    ['alpha', 1],
    ['beta', 1],
  ]);
  users = new Map<number, number>([
    [7, 1],
    [8, 1],
  ]);
}
const DATA = Symbol('data');

/** What `@Exclude()` hides and `@Expose({ groups })` shows: the way apps keep secrets out of answers. */
class User {
  id!: number;
  name!: string;
  @Exclude() passwordHash!: string;
  @Expose({ groups: ['admin'] }) email!: string;
  revision!: number;
  constructor(fields: Partial<User>) {
    Object.assign(this, fields);
  }
}

/** Wraps every answer (`main.ts`'s global interceptor). */
class Wrap implements NestInterceptor {
  intercept(_c: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((data: unknown) => ({ data })));
  }
}

/** Drops `secret` fields (an `APP_INTERCEPTOR`). */
@Injectable()
class Redact implements NestInterceptor {
  intercept(_c: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((value: unknown) => (isRecord(value) && 'secret' in value ? { ...value, secret: '[redacted]' } : value)));
  }
}

/** Adds a field (a controller's interceptor) and a header (a method's). */
class Stamp implements NestInterceptor {
  intercept(_c: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(map((value: unknown) => (isRecord(value) ? { ...value, stamped: true } : value)));
  }
}
class HeaderStamp implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(
      map((value: unknown) => {
        const response = context
          .switchToHttp()
          .getResponse<{ header?: (n: string, v: string) => void; setHeader?: (n: string, v: string) => void }>();
        if (typeof response.setHeader === 'function') response.setHeader('x-stamp', 'method');
        else response.header?.('x-stamp', 'method');
        return value;
      }),
    );
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function header(context: ExecutionContext, name: string): string | undefined {
  const value = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>().headers[name];
  return value;
}

@Injectable()
class KeyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (header(context, 'x-key') !== 'k1') throw new ForbiddenException('a key is needed');
    return true;
  }
}

/** Uppercases a query value (a pipe that transforms what the handler sees). */
class Upper implements PipeTransform {
  transform(value: unknown): unknown {
    return typeof value === 'string' ? value.toUpperCase() : value;
  }
}

@Catch(HttpException)
class ErrorShape implements ExceptionFilter {
  catch(error: HttpException, host: ArgumentsHost): void {
    const body = { failed: error.getStatus(), message: error.message };
    const res = host.switchToHttp().getResponse<{
      code?: (c: number) => { send: (b: unknown) => void };
      status: (c: number) => { json: (b: unknown) => void };
    }>();
    if (typeof res.code === 'function') res.code(error.getStatus()).send(body);
    else res.status(error.getStatus()).json(body);
  }
}

@Controller('items')
@UseInterceptors(Stamp)
class ItemsController {
  constructor(@InjectData() private readonly data: Data) {}

  @Get('featured')
  @Cacheable({ ttl: 60, tags: ['items'] })
  featured() {
    return { route: 'featured', revision: this.data.items.get('featured') };
  }

  @Get(':slug')
  @Cacheable({ ttl: 60, tags: ['items', 'item:{slug}'] })
  @UseFilters(ErrorShape)
  one(@Param('slug') slug: string, @Query('label', Upper) label?: string) {
    const revision = this.data.items.get(slug);
    if (revision === undefined) throw new NotFoundException(`no item ${slug}`);
    return { route: 'slug', slug, revision, label: label ?? null };
  }

  @Post(':slug')
  @HttpCode(200)
  @InvalidateTags('items', 'item:{slug}')
  write(@Param('slug') slug: string) {
    const revision = (this.data.items.get(slug) ?? 0) + 1;
    this.data.items.set(slug, revision);
    return { slug, revision };
  }
}

@Controller('users')
@UseInterceptors(ClassSerializerInterceptor)
class UsersController {
  constructor(@InjectData() private readonly data: Data) {}

  @Get(':id')
  @Cacheable({ ttl: 60, tags: ['user:{id}'] })
  @UseInterceptors(HeaderStamp)
  one(@Param('id', ParseIntPipe) id: number) {
    return this.user(id);
  }

  @Get(':id/admin')
  @Cacheable({ ttl: 60, tags: ['user:{id}'] })
  @SerializeOptions({ groups: ['admin'] })
  @UseGuards(KeyGuard)
  admin(@Param('id', ParseIntPipe) id: number) {
    return this.user(id);
  }

  // Declared before the GET: Fastify then makes no HEAD route of its own for the GET.
  @Head(':id/page')
  @Header('x-head', 'explicit')
  head(@Param('id', ParseIntPipe) id: number): string {
    return `head ${id}`;
  }

  @Get(':id/page')
  @Cacheable({ ttl: 60, tags: ['user:{id}'] })
  @Header('x-route-header', 'static')
  page(@Param('id', ParseIntPipe) id: number, @Query('n', new ParseIntPipe({ optional: true })) n?: number) {
    return `<p>user ${this.user(id).name}, page ${n ?? 0}</p>`;
  }

  @Post(':id')
  @HttpCode(200)
  @InvalidateTags('user:{id}')
  write(@Param('id', ParseIntPipe) id: number, @Body() _body: unknown) {
    this.data.users.set(id, (this.data.users.get(id) ?? 0) + 1);
    return { id };
  }

  private user(id: number): User {
    const revision = this.data.users.get(id);
    if (revision === undefined) throw new NotFoundException();
    return new User({ id, name: `user${id}`, passwordHash: `hash-${id}`, email: `u${id}@example.test`, revision });
  }
}

@Controller('secret')
@UseGuards(KeyGuard)
class SecretController {
  @Get()
  @Cacheable({ ttl: 60 })
  read() {
    return { secret: 'classified', open: 'yes' };
  }
}

@Controller('versioned')
class VersionedController {
  @Get()
  @Version('1')
  @UseGuards(KeyGuard)
  @Cacheable({ ttl: 60 })
  v1() {
    return { v: 1, secret: 'v1-secret' };
  }

  @Get()
  @Version('2')
  @Cacheable({ ttl: 60 })
  v2() {
    return { v: 2 };
  }

  @Get('neutral')
  @Version(VERSION_NEUTRAL)
  @Cacheable({ ttl: 60 })
  neutral() {
    return { v: 'neutral' };
  }
}

@Controller('mw')
class MiddlewareController {
  @Get()
  @Cacheable({ ttl: 60 })
  read() {
    return { behind: 'middleware' };
  }
}

@Controller({ path: 'host', host: ':tenant.example.test' })
class HostController {
  @Get()
  @Cacheable({ ttl: 60 })
  read(@Param('tenant') tenant: string) {
    return { tenant };
  }
}

@Controller('health')
class HealthController {
  @Get()
  @Cacheable({ ttl: 60 })
  read() {
    return { ok: true };
  }
}

function InjectData(): ParameterDecorator {
  return Inject(DATA);
}

/** Class middleware bound with `MiddlewareConsumer`: `/mw` needs `x-mw-key`. */
@Injectable()
class ApiKeyMiddleware implements NestMiddleware {
  use(request: { headers: Record<string, string | undefined> }, _response: unknown, next: (error?: unknown) => void): void {
    next(request.headers['x-mw-key'] === 'm1' ? undefined : new ForbiddenException('the middleware wants a key'));
  }
}

/** What the fixture app is made of, per configuration. */
export interface FixtureConfig {
  adapter: 'express' | 'fastify';
  /** Off: `enabled: false` (every answer is the app's own); on: the store below. */
  cache: boolean;
  store: 'memory' | 'redis';
  redisUrl?: string;
  lane: boolean;
  versioning: 'uri' | 'header' | 'media' | 'custom';
  /** A key prefix of its own on a shared Redis. */
  prefix?: string;
}

function versioningOf(kind: FixtureConfig['versioning']) {
  switch (kind) {
    case 'uri':
      return { type: VersioningType.URI } as const;
    case 'header':
      return { type: VersioningType.HEADER, header: 'X-API-Version' } as const;
    case 'media':
      return { type: VersioningType.MEDIA_TYPE, key: 'v=' } as const;
    case 'custom':
      return {
        type: VersioningType.CUSTOM,
        extractor: (request: unknown) =>
          String((request as { headers: Record<string, string | undefined> }).headers['x-custom-version'] ?? ''),
      } as const;
  }
}

/** Starts the fixture app on a free port; its URL and a close function. */
export async function startFixture(config: FixtureConfig): Promise<{ app: INestApplication; url: string; close: () => Promise<void> }> {
  let store: CacheStore = new MemoryCacheStore();
  let quit: (() => Promise<unknown>) | undefined;
  if (config.store === 'redis') {
    const client = createRedisClient({ url: config.redisUrl ?? 'redis://127.0.0.1:6379' });
    store = new RedisCacheStore({ client, prefix: config.prefix ?? `rc-transparency-${process.pid}-${Date.now()}:` });
    quit = () => client.quit();
  }
  @Module({
    imports: [ResponseCacheModule.forRoot({ store, enabled: config.cache, fastLane: config.lane, clock: new ManualClock(Date.now()) })],
    // A host-routed controller turns the fast lane off for the whole app (a URL alone may reach it or
    // another route): it is part of the configurations that check the interceptor's keys.
    controllers: [
      ItemsController,
      UsersController,
      SecretController,
      VersionedController,
      MiddlewareController,
      HealthController,
      ...(config.versioning === 'uri' ? [] : [HostController]),
    ],
    providers: [
      { provide: DATA, useValue: new Data() },
      { provide: APP_INTERCEPTOR, useClass: Redact },
    ],
  })
  class FixtureModule {
    configure(consumer: MiddlewareConsumer): void {
      consumer.apply(ApiKeyMiddleware).forRoutes(MiddlewareController);
      consumer
        .apply((request: unknown, response: { setHeader: (n: string, v: string) => void }, next: () => void) => {
          response.setHeader('x-functional-mw', 'ran');
          next();
        })
        .forRoutes('*path');
    }
  }
  const app =
    config.adapter === 'fastify'
      ? await NestFactory.create(FixtureModule, new FastifyAdapter(), { logger: false })
      : await NestFactory.create(FixtureModule, { logger: false });
  app.setGlobalPrefix('api', { exclude: ['health'] });
  app.enableVersioning(versioningOf(config.versioning));
  app.useGlobalInterceptors(new Wrap());
  installPlatformHooks(app, config.adapter);
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    app,
    url,
    close: async () => {
      await app.close();
      await quit?.();
    },
  };
}

type Hook = (request: Req, reply: Rep, done: (error?: Error) => void) => void;
interface Req {
  url: string;
  headers: Record<string, string | undefined>;
}
interface Rep {
  header(name: string, value: string): void;
  code(status: number): Rep;
  send(body: unknown): void;
}

/** What a `main.ts` registers on the platform: Express middleware, or a hook of each Fastify kind. */
function installPlatformHooks(app: INestApplication, adapter: FixtureConfig['adapter']): void {
  const counter = { n: 0 };
  if (adapter === 'express') {
    app.use(
      (
        request: Req,
        response: { setHeader: (n: string, v: string) => void; status: (c: number) => { json: (b: unknown) => void } },
        next: () => void,
      ) => {
        response.setHeader('x-request-number', String(++counter.n));
        if (request.url.includes('/hooked') || (request.url.includes('/items/beta') && request.headers['x-hook-key'] !== 'h1')) {
          response.status(401).json({ refused: 'by main.ts middleware' });
          return;
        }
        next();
      },
    );
    return;
  }
  const fastify = app.getHttpAdapter().getInstance() as {
    addHook(name: string, hook: Hook | ((request: Req, reply: Rep, payload: unknown, done: (e: null, p: unknown) => void) => void)): void;
  };
  fastify.addHook('onRequest', (_request: Req, reply: Rep, done: () => void) => {
    reply.header('x-request-number', String(++counter.n));
    done();
  });
  fastify.addHook('preParsing', ((_request: Req, _reply: Rep, payload: unknown, done: (e: null, p: unknown) => void) =>
    done(null, payload)) as never);
  fastify.addHook('preValidation', (request: Req, reply: Rep, done: () => void) => {
    if (request.headers['x-deny'] === 'validation') return reply.code(422).send({ refused: 'by preValidation' });
    done();
  });
  fastify.addHook('preHandler', (request: Req, reply: Rep, done: () => void) => {
    if (request.url.includes('/items/beta') && request.headers['x-hook-key'] !== 'h1')
      return reply.code(401).send({ refused: 'by preHandler' });
    done();
  });
  fastify.addHook('onSend', ((_request: Req, reply: Rep, payload: unknown, done: (e: null, p: unknown) => void) => {
    reply.header('x-on-send', 'ran');
    done(null, payload);
  }) as never);
}
