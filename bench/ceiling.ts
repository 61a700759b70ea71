/**
 * The ceiling of a cache hit on each platform: plain Fastify (an `onRequest` hook) and plain
 * Express (the first middleware) answering from a `Map` before routing, no Nest, with the
 * headers a hit carries. No cache can answer faster on that platform.
 */
import express from 'express';
import fastify from 'fastify';
import type { Server } from 'node:http';

interface Stored {
  body: Buffer;
  headers: Record<string, string>;
}

function entries(body: string): Map<string, Stored> {
  const headers = {
    'content-type': 'application/json; charset=utf-8',
    etag: 'W/"5f2-ceiling"',
    'cache-control': 'public, max-age=3600',
    'x-cache': 'HIT',
  };
  return new Map([['/cached', { body: Buffer.from(body), headers }]]);
}

export async function listenCeiling(
  adapter: 'express' | 'fastify',
  body: string,
): Promise<{ port: number; close: () => Promise<unknown> }> {
  const map = entries(body);
  if (adapter === 'fastify') {
    const app = fastify();
    app.addHook('onRequest', (request, reply, done) => {
      const hit = map.get(request.url);
      if (hit === undefined) return done();
      void reply.headers(hit.headers).send(hit.body);
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { port: (app.server.address() as { port: number }).port, close: () => app.close() };
  }
  const app = express();
  app.use((request, response, next) => {
    const hit = map.get(request.url);
    if (hit === undefined) return next();
    response.set(hit.headers).send(hit.body);
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { port: (server.address() as { port: number }).port, close: () => new Promise((resolve) => server.close(resolve)) };
}
