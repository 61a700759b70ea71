import { LRUCache } from 'lru-cache';
import type { RouteId } from '../http/http-exchange';
import type { CachePlan } from './route-plan';

/** How many request targets the fast lane knows at most (the most recently used stay). */
const MAX_TARGETS = 10_000;
/** Routes kept per target: GET's, and a `@Head()` route's. */
const MAX_ROUTES_PER_TARGET = 4;

/** What the lane knows of a request target, learned when the interceptor answered it. */
export interface LearnedTarget {
  /** The platform's route that answered (Express's `req.route`, Fastify's route URL). */
  routeId: RouteId;
  plan: CachePlan;
  /** The fence tags its entries carry (so that a remote store validates a hit in one round trip). */
  tags: readonly string[];
  /** The route pattern, for metrics and logs. */
  route: string;
  /**
   * Its key while the route keys no request header for it: a pure function of the target and the
   * handler, so the lane builds it once (see `FastLane`).
   */
  laneKey?: string;
}

/**
 * The request targets the interceptor has answered on lane-eligible routes, per platform route:
 * the interceptor writes, the fast lane reads. A target is answered by the lane only on the route
 * that answered it through Nest, so a spelling or a method that the router sends elsewhere never
 * gets this route's entry.
 */
export class LearnedTargets {
  /** Per target, the routes that answered it (one, but for a `@Head()` beside a `@Get()`). */
  private readonly targets = new LRUCache<string, LearnedTarget[]>({ max: MAX_TARGETS });
  /** The routes learned (the app's routes: a bounded set). */
  private readonly routes = new Set<RouteId>();

  learn(target: string, learned: LearnedTarget): void {
    const known = this.targets.get(target);
    if (known?.some((k) => k.routeId === learned.routeId) === true) return;
    this.targets.set(target, [learned, ...(known ?? [])].slice(0, MAX_ROUTES_PER_TARGET));
    this.routes.add(learned.routeId);
  }

  /** True when some target of `routeId` was learned (a cheap test before the target is built). */
  knows(routeId: RouteId | undefined): boolean {
    return routeId !== undefined && this.routes.has(routeId);
  }

  find(target: string, routeId: RouteId): LearnedTarget | undefined {
    return this.targets.get(target)?.find((learned) => learned.routeId === routeId);
  }

  get size(): number {
    return this.targets.size;
  }
}
