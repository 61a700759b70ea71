import type { HttpServer } from '@nestjs/common';

/** Answers a request from the cache; false when it did not (and sent nothing). */
export type LaneHandler = (request: unknown, response: unknown) => Promise<boolean>;

type Next = (error?: unknown) => void;

interface FastifyLike {
  addHook(name: 'onRequest', hook: (request: { method: string }, reply: { sent: boolean }, done: Next) => void): void;
}

interface Layer {
  name?: string;
  handle?: unknown;
}

interface ExpressLike {
  use(middleware: (request: { method: string }, response: { headersSent: boolean }, next: Next) => void): void;
  router?: { stack: Layer[] };
  _router?: { stack: Layer[] };
}

/** Nest's body parsers: the lane goes in front of them (and so behind what `main.ts` registered with `app.use()`). */
const NEST_PARSERS = new Set(['jsonParser', 'urlencodedParser', 'rawParser', 'textParser']);

/**
 * Puts the lane in front of the app's routing: a Fastify `onRequest` hook (after the hooks
 * registered before it, such as CORS), or an Express middleware placed ahead of Nest's body
 * parsers, Nest middleware and routes. A request the lane does not answer, or that fails in it,
 * goes on untouched. False when the adapter is neither.
 */
export function installLane(adapter: HttpServer, serve: LaneHandler): boolean {
  const type = adapter.getType();
  if (type === 'fastify') {
    const fastify = adapter.getInstance() as FastifyLike;
    fastify.addHook('onRequest', (request, reply, done) => {
      if (request.method !== 'GET' && request.method !== 'HEAD') return done();
      serve(request, reply).then(
        (answered) => answered || done(),
        () => reply.sent || done(),
      );
    });
    return true;
  }
  if (type === 'express') {
    const express = adapter.getInstance() as ExpressLike;
    const lane = (request: { method: string }, response: { headersSent: boolean }, next: Next): void => {
      if (request.method !== 'GET' && request.method !== 'HEAD') return next();
      serve(request, response).then(
        (answered) => answered || next(),
        () => response.headersSent || next(),
      );
    };
    express.use(lane);
    const stack = (express.router ?? express._router)?.stack;
    if (stack !== undefined && stack[stack.length - 1]?.handle === lane) {
      const layer = stack.pop()!;
      const parsers = stack.findIndex((l) => l.name !== undefined && NEST_PARSERS.has(l.name));
      // Without them (`bodyParser: false`) it goes first.
      stack.splice(parsers === -1 ? 0 : parsers, 0, layer);
    }
    return true;
  }
  return false;
}
