/**
 * The ceiling of a cache hit on each platform: plain Fastify (an `onRequest` hook) and plain
 * Express (the first middleware) answering before routing, no Nest, with exactly the status,
 * headers and body of a fast-lane hit (captured from a running app by the benchmark and handed over
 * in the file BENCH_CEILING_HIT names). `ceiling-redis` reads the body with one ioredis `GET` per
 * request from the redis-server the Redis rows use. No cache can answer faster on that platform.
 */
import express from 'express';
import fastify from 'fastify';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import Redis from 'ioredis';

/** A captured hit: what the ceiling sends for `/cached`. */
export interface CapturedHit {
  status: number;
  headers: Record<string, string>;
  /** base64 */
  body: string;
}

/** The hit the benchmark captured, from the file BENCH_CEILING_HIT names. */
export function capturedHit(): CapturedHit {
  return JSON.parse(readFileSync(process.env.BENCH_CEILING_HIT!, 'utf8')) as CapturedHit;
}

/**
 * The hit's body the way the platform sends it cheapest: Fastify sends a string in one write with
 * the head (where the type says UTF-8, it adds nothing to it), Express encodes a string again in
 * `res.send`, so it gets the bytes. The bytes on the wire are the same either way.
 */
export function ceilingBody(hit: CapturedHit, adapter: 'express' | 'fastify'): Buffer | string {
  const bytes = Buffer.from(hit.body, 'base64');
  const utf8 = /;\s*charset=utf-8\s*(;|$)/i.test(hit.headers['content-type'] ?? '');
  return adapter === 'fastify' && utf8 ? bytes.toString('utf8') : bytes;
}

export async function listenCeiling(
  adapter: 'express' | 'fastify',
  redisUrl?: string,
  routed = false,
): Promise<{ port: number; close: () => Promise<unknown> }> {
  const hit = capturedHit();
  const body = ceilingBody(hit, adapter);
  const redis = redisUrl === undefined ? undefined : new Redis(redisUrl);
  const key = `bench-ceiling-${process.pid}`;
  await redis?.set(key, body);
  /** The body: in memory, or one GET from Redis (as the string or the bytes the platform sends best). */
  const read = (send: (bytes: Buffer | string) => void, pass: () => void): void => {
    if (redis === undefined) return send(body);
    const got = typeof body === 'string' ? redis.get(key) : redis.getBuffer(key);
    got.then((bytes) => (bytes === null ? pass() : send(bytes)), pass);
  };
  const closeRedis = () => redis?.quit();
  if (adapter === 'fastify') {
    const app = fastify();
    // `routed`: after routing, from the route's handler (where a transparent lane answers: after the router and the hooks).
    if (routed) app.get('/cached', (_request, reply) => void reply.code(hit.status).headers(hit.headers).send(body));
    else {
      app.addHook('onRequest', (request, reply, done) => {
        if (request.url !== '/cached') return done();
        read((bytes) => void reply.code(hit.status).headers(hit.headers).send(bytes), done);
      });
    }
    await app.listen({ port: 0, host: '127.0.0.1' });
    return { port: (app.server.address() as { port: number }).port, close: async () => (await app.close(), closeRedis()) };
  }
  const app = express();
  if (routed) app.get('/cached', (_request, response) => void response.status(hit.status).set(hit.headers).send(body));
  else {
    app.use((request, response, next) => {
      if (request.url !== '/cached') return next();
      read((bytes) => void response.status(hit.status).set(hit.headers).send(bytes), next);
    });
  }
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    port: (server.address() as { port: number }).port,
    close: async () => (await new Promise((resolve) => server.close(resolve)), closeRedis()),
  };
}
