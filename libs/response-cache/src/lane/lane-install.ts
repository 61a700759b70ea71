import type { HttpServer } from '@nestjs/common';

/** Answers a request from the cache; false when it did not (and sent nothing). Synchronous when it can be. */
export type LaneHandler = (request: unknown, response: unknown) => boolean | Promise<boolean>;

/** Runs the lane: `answered` or `pass` once, whether the lane decided at once or later; a throw passes. */
function run(serve: LaneHandler, request: unknown, response: unknown, pass: () => unknown, sent: () => boolean): void {
  let answer: boolean | Promise<boolean>;
  try {
    answer = serve(request, response);
  } catch {
    if (!sent()) pass();
    return;
  }
  if (answer === true) return;
  if (answer === false) {
    pass();
    return;
  }
  answer.then(
    (answered) => answered || pass(),
    () => sent() || pass(),
  );
}

type Next = (error?: unknown) => void;
type Handle = (request: { method: string }, response: { headersSent: boolean }, next: Next) => unknown;

interface FastifyLike {
  addHook(name: 'preHandler', hook: (request: { method: string }, reply: { sent: boolean }, done: Next) => void): void;
}

interface Layer {
  handle: Handle;
  route?: { methods: Record<string, boolean>; stack: Layer[] };
}

interface ExpressLike {
  router?: { stack: Layer[] };
  _router?: { stack: Layer[] };
}

/**
 * Puts the lane where the platform has routed the request and run everything registered for it,
 * just before the route's handler (and so before Nest's guards, interceptors and pipes): a Fastify
 * `preHandler` hook added after the app's own hooks, or a wrapper around the handler of each
 * Express route (after every middleware, `app.use()` and Nest's `MiddlewareConsumer` alike). A
 * request the lane does not answer, or that fails in it, goes on untouched. False when the
 * adapter is neither.
 */
export function installLane(adapter: HttpServer, serve: LaneHandler): boolean {
  const type = adapter.getType();
  if (type === 'fastify') {
    const fastify = adapter.getInstance() as FastifyLike;
    fastify.addHook('preHandler', (request, reply, done) => {
      if (request.method !== 'GET' && request.method !== 'HEAD') return done();
      run(serve, request, reply, done, () => reply.sent);
    });
    return true;
  }
  if (type === 'express') {
    const express = adapter.getInstance() as ExpressLike;
    for (const layer of (express.router ?? express._router)?.stack ?? []) {
      const route = layer.route;
      const first = route?.stack[0];
      if (route === undefined || first === undefined) continue;
      if (!route.methods.get && !route.methods.head && !route.methods._all) continue;
      const handler = first.handle;
      first.handle = function lane(request, response, next) {
        if (request.method !== 'GET' && request.method !== 'HEAD') return handler(request, response, next);
        run(
          serve,
          request,
          response,
          () => handler(request, response, next),
          () => response.headersSent,
        );
      };
    }
    return true;
  }
  return false;
}
