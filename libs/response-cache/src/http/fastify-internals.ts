/**
 * What the cache reads of Fastify's internals, by the descriptions of its own symbols (Fastify
 * does not export them), found on the first request. Where one is not found, the cache takes the
 * safe way (no route known: no lane; a serializer assumed: bytes sent).
 */
let routeContextSymbol: symbol | undefined;
let routeByFastifySymbol: symbol | undefined;

function symbolOf(target: object, description: string): symbol | undefined {
  return Object.getOwnPropertySymbols(target).find((s) => s.description === description);
}

interface FastifyRouteContext {
  config?: { url?: string; method?: string | string[] };
}

/**
 * The route Fastify matched: its URL, and `HEAD <url>` for a HEAD route declared by the app (one
 * that Fastify made for a GET route, `exposeHeadRoutes`, runs the GET handler and is the GET's).
 * Read from the route context itself: `request.routeOptions` builds an object on every call.
 */
export function fastifyRoute(request: object): string | undefined {
  routeContextSymbol ??= symbolOf(request, 'fastify.context');
  if (routeContextSymbol === undefined) return undefined;
  const context = (request as Record<symbol, FastifyRouteContext | undefined>)[routeContextSymbol];
  const url = context?.config?.url;
  if (context === undefined || url === undefined) return undefined;
  if (context.config?.method !== 'HEAD') return url;
  routeByFastifySymbol ??= symbolOf(context, 'fastify.routeByFastify');
  const madeByFastify = routeByFastifySymbol !== undefined && (context as Record<symbol, unknown>)[routeByFastifySymbol] === true;
  return madeByFastify ? url : `HEAD ${url}`;
}

/** Fastify's symbol of a reply's own serializer (`reply.serializer()`). */
let replySerializerSymbol: symbol | undefined;

/** True when no `reply.serializer()` was set on this reply (it would serialize a string body again). */
export function hasNoReplySerializer(reply: object): boolean {
  replySerializerSymbol ??= symbolOf(reply, 'fastify.reply.serializer');
  return replySerializerSymbol !== undefined && (reply as Record<symbol, unknown>)[replySerializerSymbol] === null;
}
