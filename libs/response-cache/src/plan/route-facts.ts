import { RequestMethod } from '@nestjs/common';

// Where Nest's decorators keep what the cache reads (@nestjs/common's constants).
const PATH_METADATA = 'path';
const METHOD_METADATA = 'method';
const HOST_METADATA = 'host';
const GUARDS_METADATA = '__guards__';
const VERSION_METADATA = '__version__';
const SSE_METADATA = '__sse__';
const REDIRECT_METADATA = '__redirect__';
const ROUTE_ARGS_METADATA = '__routeArguments__';
const RESPONSE_PASSTHROUGH_METADATA = '__responsePassthrough__';
const HEADERS_METADATA = '__headers__';
/** `RouteParamtypes.RESPONSE` and `.NEXT`: `@Res()` and `@Next()`. */
const RESPONSE_PARAM = 1;
const NEXT_PARAM = 2;

/** What Nest's own metadata says about a route, as far as the cache needs it. */
export interface RouteFacts {
  /** `Controller.method`: keys carry it, so that no handler is answered from another's entries. */
  handlerId: string;
  /** `GET /users/:id (UsersController.findOne)`. */
  label: string;
  /** The parameter names of each of the route's paths (controller × method paths). */
  params: string[][];
  /** A guard on the controller or the method. */
  guarded: boolean;
  /** `@Controller({ host })`. */
  hostRouted: boolean;
  /** `@Version()` or a controller `version`. */
  versioned: boolean;
  /** Lower-case names of the headers the route sets with `@Header()`. */
  routeHeaders: ReadonlySet<string>;
  /** Why the route's answer cannot be cached without changing it, if it cannot. */
  refusal?: string;
}

type Handler = (...args: unknown[]) => unknown;
type Controller = new (...args: never[]) => unknown;

function list(value: unknown): string[] {
  if (value === undefined) return ['/'];
  return (Array.isArray(value) ? value : [value]).map(String);
}

function join(prefix: string, path: string): string {
  return `/${[prefix, path]
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter((p) => p !== '')
    .join('/')}`;
}

/** `:id`, `:id?`, `*rest` and `{/:opt}` parameters of a path (path-to-regexp's syntax). */
function paramsOf(path: string): string[] {
  return [...path.matchAll(/[:*]([A-Za-z_$][\w$]*)/g)].map((m) => m[1]);
}

function nonEmpty(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : value !== undefined;
}

/** Why a route's answer is not the handler's value as Nest sends it, or undefined. */
function refusalOf(handler: Handler, controller: Controller): string | undefined {
  if (Reflect.getMetadata(SSE_METADATA, handler) === true) return 'it is a server-sent event stream (@Sse)';
  if (Reflect.getMetadata(REDIRECT_METADATA, handler) !== undefined) return 'it redirects (@Redirect), with the target chosen per request';
  const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, handler.name) ?? {}) as Record<string, unknown>;
  const passthrough = Reflect.getMetadata(RESPONSE_PASSTHROUGH_METADATA, controller, handler.name) === true;
  for (const key of Object.keys(args)) {
    const type = Number(key.split(':')[0]);
    if (type === NEXT_PARAM) return "it takes the platform's next() (@Next)";
    if (type === RESPONSE_PARAM && !passthrough) return 'it writes the response itself (@Res() without passthrough)';
  }
  return undefined;
}

export function routeFacts(handler: Handler, controller: Controller): RouteFacts {
  const handlerId = `${controller.name}.${handler.name}`;
  const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
  const paths: string[] = [];
  for (const prefix of list(Reflect.getMetadata(PATH_METADATA, controller))) {
    for (const path of list(Reflect.getMetadata(PATH_METADATA, handler))) paths.push(join(prefix, path));
  }
  const verb = method === undefined ? 'ALL' : (RequestMethod[method] ?? 'ALL');
  return {
    handlerId,
    label: `${verb} ${paths.join(', ')} (${handlerId})`,
    params: paths.map(paramsOf),
    guarded: nonEmpty(Reflect.getMetadata(GUARDS_METADATA, handler)) || nonEmpty(Reflect.getMetadata(GUARDS_METADATA, controller)),
    hostRouted: nonEmpty(Reflect.getMetadata(HOST_METADATA, controller)),
    versioned: nonEmpty(Reflect.getMetadata(VERSION_METADATA, handler)) || nonEmpty(Reflect.getMetadata(VERSION_METADATA, controller)),
    routeHeaders: new Set(
      ((Reflect.getMetadata(HEADERS_METADATA, handler) ?? []) as { name: string }[]).map((header) => header.name.toLowerCase()),
    ),
    refusal: refusalOf(handler, controller),
  };
}
