import { All, Controller, Get, INestApplication, Module, Req, Res, Type, UseInterceptors } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Cacheable, CacheableOptions, ResponseCacheInterceptor, ResponseCacheModule } from 'nestjs-response-cache';

type FreshnessMode = NonNullable<CacheableOptions['freshness']>;
import { setHeader } from '../support/set-header';

/** Request headers not forwarded: the connection's own, and validators (the cache answers conditionals itself). */
const NOT_FORWARDED = new Set([
  'host',
  'connection',
  'keep-alive',
  'content-length',
  'transfer-encoding',
  'if-none-match',
  'if-modified-since',
]);
/** Response headers not copied: the connection's own and what the platform writes. */
const NOT_COPIED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);
/** Codings fetch decodes itself: the body it hands over is no longer in them. */
const DECODED = new Set(['gzip', 'x-gzip', 'deflate', 'br']);

interface ProxyRequest {
  method: string;
  url: string;
  originalUrl?: string;
  headers: Record<string, string | string[] | undefined>;
  body?: unknown;
}

function setStatus(res: unknown, status: number): void {
  const r = res as { status?: (c: number) => unknown; code?: (c: number) => unknown };
  if (typeof r.code === 'function') r.code(status);
  else r.status?.(status);
}

/** The handler of the proxy routes: the request, forwarded to the origin; its answer, as it came. */
async function forward(origin: string, req: ProxyRequest, res: unknown): Promise<string> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || NOT_FORWARDED.has(name)) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && req.body !== undefined && req.body !== null;
  const body = !hasBody ? undefined : typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
  const answer = await fetch(`${origin}${req.originalUrl ?? req.url}`, { method: req.method, headers, body, redirect: 'manual' });
  setStatus(res, answer.status);
  const cookies = answer.headers.getSetCookie();
  if (cookies.length > 0) setHeader(res, 'set-cookie', cookies);
  // A proxy drops the fields that Connection names (RFC 9110 §7.6.1).
  const hopByHop = new Set((answer.headers.get('connection') ?? '').split(',').map((n) => n.trim().toLowerCase()));
  answer.headers.forEach((value, name) => {
    if (NOT_COPIED.has(name) || hopByHop.has(name) || name === 'set-cookie') return;
    if (name === 'content-encoding' && DECODED.has(value.trim().toLowerCase())) return;
    setHeader(res, name, value);
  });
  return answer.text();
}

/** A Nest app whose routes proxy to `origin`: GET /test/* through the cache, everything else straight through. */
function proxyModule(adapter: 'express' | 'fastify', origin: string, freshness: FreshnessMode): Type {
  // Express 5 names its wildcards; Fastify's router takes a bare one.
  const wildcard = adapter === 'express' ? '*path' : '*';
  @Controller()
  class ProxyController {
    @Get(`test/${wildcard}`)
    @Cacheable({ freshness })
    cached(@Req() req: ProxyRequest, @Res({ passthrough: true }) res: unknown) {
      return forward(origin, req, res);
    }

    /** Other methods and paths, through the interceptor too: its writes invalidate (RFC 9111 §4.4). */
    @All(wildcard)
    @UseInterceptors(ResponseCacheInterceptor)
    passThrough(@Req() req: ProxyRequest, @Res({ passthrough: true }) res: unknown) {
      return forward(origin, req, res);
    }
  }

  @Module({ imports: [ResponseCacheModule.forRoot({ freshness, compression: { enabled: false } })], controllers: [ProxyController] })
  class ProxyModule {}
  return ProxyModule;
}

export async function startProxy(
  adapter: 'express' | 'fastify',
  origin: string,
  freshness: FreshnessMode,
): Promise<{ app: INestApplication; url: string }> {
  const module = proxyModule(adapter, origin, freshness);
  const settings = { logger: false as const, abortOnError: false };
  let app: INestApplication;
  if (adapter === 'fastify') {
    const fastify = new FastifyAdapter();
    // Fastify routes only the methods it knows; the suite's invalidation tests send M-SEARCH.
    fastify.getInstance().addHttpMethod('M-SEARCH', { hasBody: true });
    // Bodies of any type pass through as text (Fastify answers 415 to types it cannot parse).
    fastify
      .getInstance()
      .addContentTypeParser('*', { parseAs: 'string' }, (_req: unknown, body: string | Buffer, done: (e: null, b: string) => void) =>
        done(null, String(body)),
      );
    app = await NestFactory.create(module, fastify, settings);
  } else {
    app = await NestFactory.create(module, settings);
  }
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}
