import { Logger } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { RoutePlans } from './route-plan';

/** Where `@Get()` and the other route decorators keep a handler's path. */
const PATH_METADATA = 'path';

/**
 * Builds the plan of every route at startup, so that a plan's error (a tag template naming a
 * parameter its route lacks) stops the app, and says once which `@Cacheable` routes are not
 * cached, and why, and (debug) which ones the fast lane may answer.
 */
export function catalogRoutes(discovery: DiscoveryService, plans: RoutePlans, fastLane: boolean): void {
  const logger = new Logger('ResponseCache');
  const scanner = new MetadataScanner();
  const lane: string[] = [];
  for (const wrapper of discovery.getControllers()) {
    const controller = wrapper.metatype as (new (...args: never[]) => unknown) | undefined;
    const prototype = controller?.prototype as Record<string, unknown> | undefined;
    if (controller === undefined || prototype === undefined) continue;
    for (const name of scanner.getAllMethodNames(prototype)) {
      const handler = prototype[name];
      if (typeof handler !== 'function' || Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
      const plan = plans.of(handler, controller);
      if (plan?.refused !== undefined) logger.warn(`not caching ${plan.label}: ${plan.refused}`);
      if (plan?.cache?.lane === true) lane.push(plan.label);
    }
  }
  if (fastLane) logger.debug(`the fast lane may answer hits of: ${lane.length === 0 ? 'no route' : lane.join('; ')}`);
}
