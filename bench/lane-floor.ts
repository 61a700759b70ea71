/**
 * The floor of the fast lane inside a Nest app: the same Nest app (its platform adapter with every
 * hook and middleware Nest registers) with the lane's hook in the lane's place (a Fastify
 * `preHandler` added after the app's hooks, or a wrapper around the Express route's handler), that
 * sends the captured hit's bytes (as the ceilings do: {@link ceilingBody}) and does no cache work at all. The lane's cost over this floor is
 * the cache's own; the floor's over the plain platform is Nest's adapter, which a transparent lane
 * cannot skip (issue #19).
 */
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { capturedHit, ceilingBody } from './ceiling';

@Controller()
class FloorController {
  @Get('cached')
  cached() {
    throw new Error('the floor answers /cached before the handler');
  }
}

@Module({ controllers: [FloorController] })
class FloorModule {}

type Next = (error?: unknown) => void;
interface Layer {
  handle: (
    request: unknown,
    response: { status(code: number): { set(h: object): { send(b: Buffer | string): void } } },
    next: Next,
  ) => void;
  route?: { path: string; stack: Layer[] };
}

export async function listenLaneFloor(adapter: 'express' | 'fastify'): Promise<{ port: number; close: () => Promise<unknown> }> {
  const hit = capturedHit();
  const body = ceilingBody(hit, adapter);
  const app =
    adapter === 'fastify'
      ? await NestFactory.create(FloorModule, new FastifyAdapter(), { logger: false })
      : await NestFactory.create(FloorModule, { logger: false });
  await app.init();
  const instance = app.getHttpAdapter().getInstance() as {
    addHook?: (name: 'preHandler', hook: (request: { url: string }, reply: FastifyReply, done: Next) => void) => void;
    router?: { stack: Layer[] };
  };
  if (adapter === 'fastify') {
    instance.addHook!('preHandler', (request, reply, done) => {
      if (request.url !== '/cached') return done();
      void reply.code(hit.status).headers(hit.headers).send(body);
    });
  } else {
    const first = instance.router!.stack.find((layer) => layer.route?.path === '/cached')!.route!.stack[0];
    first.handle = (_request, response) => response.status(hit.status).set(hit.headers).send(body);
  }
  await app.listen(0, '127.0.0.1');
  return { port: (app.getHttpServer().address() as { port: number }).port, close: () => app.close() };
}

interface FastifyReply {
  code(status: number): { headers(h: object): { send(b: Buffer | string): unknown } };
}
