import { createHmac } from 'node:crypto';
import type { HttpExchange } from '../http/http-exchange';
import { headerString } from '../http/http-exchange';
import type { ResolvedCacheOptions } from '../options/resolve-options';
import { buildCacheKey, requestTarget } from './cache-key';

/** A verified identity as keys and URI tags carry it (hashed); or the anonymous partition of its scope. */
export interface Identity {
  scope: 'user' | 'tenant';
  id: string;
  /** The shared partition of callers without an identity (`anonymous: 'public'`); `id` is empty. */
  anonymous?: boolean;
}

/** The partition of callers without an identity on a per-user or per-tenant route. */
export function anonymousIdentity(scope: 'user' | 'tenant'): Identity {
  return { scope, id: '', anonymous: true };
}

/** What a key needs of a route's plan. */
export interface KeyPlan {
  /** The handler that answers (`Controller.method`): no request is answered from another handler's entry. */
  readonly handlerId: string;
  /** True when the route is host-routed (`@Controller({ host })`): the host chose the handler. */
  readonly hostRouted: boolean;
}

type TargetOptions = Pick<ResolvedCacheOptions, 'keyIncludesHost' | 'bypassQueryParam'>;

/**
 * The request's host + path + query with the path as the router matched it (percent-encoding
 * untouched: `/items/f%65atured` is not `/items/featured`, which a router may send elsewhere) and
 * the query canonical (parameter order does not reach the handler). Keys and the fast lane use it.
 */
export function keyTarget(options: TargetOptions, exchange: HttpExchange, plan?: KeyPlan): string | undefined {
  const host = options.keyIncludesHost || plan?.hostRouted === true ? headerString(exchange.headers.host) : undefined;
  return requestTarget(host, exchange.path, exchange.query, options.bypassQueryParam, false);
}

/**
 * The request's normalized URI (percent-encoding decoded and encoded again): what URI tags carry,
 * so that a write to one spelling invalidates every spelling's entries (RFC 9111 §4.4).
 */
export function uriTarget(
  options: TargetOptions,
  exchange: HttpExchange,
  path = exchange.path,
  query = exchange.query,
): string | undefined {
  const host = options.keyIncludesHost ? headerString(exchange.headers.host) : undefined;
  return requestTarget(host, path, query, options.bypassQueryParam);
}

/**
 * The key of a request to a route: method, the {@link keyTarget}, the route's keyed headers, the
 * answering handler; the caller's identity on per-user and per-tenant routes; the route's `key`
 * function's value in place of the target where it has one. Undefined: it cannot be keyed.
 */
export function requestKey(
  options: Pick<ResolvedCacheOptions, 'maxKeyLength'>,
  exchange: HttpExchange,
  plan: KeyPlan,
  target: string,
  keyedHeaders: readonly string[],
  identity?: Identity,
  custom?: string,
): string | undefined {
  const headers = exchange.headers;
  const vary = keyedHeaders.length === 0 ? undefined : keyedHeaders.map((name) => [name, headerString(headers[name])] as const);
  return buildCacheKey(
    { method: exchange.method, path: exchange.path, query: exchange.query, vary, identity, custom, target, handler: plan.handlerId },
    options.maxKeyLength,
  );
}

/** The caller's identity in `scope` as keys and URI tags carry it: a keyed hash (HMAC) of the id. */
export function hashedIdentity(secret: string, scope: 'user' | 'tenant', id: string): Identity {
  return { scope, id: createHmac('sha256', secret).update(`${scope}:${id}`).digest('base64url') };
}
