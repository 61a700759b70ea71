import { VersioningType } from '@nestjs/common';
import type { ApplicationConfig, DiscoveryService, HttpAdapterHost } from '@nestjs/core';
import type { AppFacts } from './route-plan';

/** Fastify keeps its hooks under this symbol (there is no public way to ask whether one is registered). */
const FASTIFY_HOOKS = 'fastify.hooks';

/** `preSerialization` hooks of a Fastify app: they change an object's answer, and never see the cache's bytes. */
function fastifySerializationHooks(host: HttpAdapterHost | undefined): number {
  const adapter = host?.httpAdapter;
  if (adapter === undefined || adapter.getType() !== 'fastify') return 0;
  const instance = adapter.getInstance() as Record<symbol, { preSerialization?: unknown[] } | undefined>;
  const symbol = Object.getOwnPropertySymbols(instance).find((s) => s.description === FASTIFY_HOOKS);
  return symbol === undefined ? 0 : (instance[symbol]?.preSerialization?.length ?? 0);
}

/** True when some controller of the app is host-routed (`@Controller({ host })`). */
function hasHostRoutes(discovery: DiscoveryService): boolean {
  return discovery
    .getControllers()
    .some((wrapper) => wrapper.metatype != null && Reflect.getMetadata('host', wrapper.metatype) !== undefined);
}

/** What the app's configuration says that decides route plans (global guards, versioning, hosts, hooks). */
export function appFacts(config: ApplicationConfig, discovery: DiscoveryService, host?: HttpAdapterHost): AppFacts {
  let hostRouting: boolean | undefined;
  return {
    hostRouting: () => (hostRouting ??= hasHostRoutes(discovery)),
    globalGuards: () => config.getGlobalGuards().length > 0 || config.getGlobalRequestGuards().length > 0,
    nonUriVersioning: () => {
      const versioning = config.getVersioning();
      return versioning !== undefined && versioning.type !== VersioningType.URI;
    },
    refusal: () =>
      fastifySerializationHooks(host) > 0
        ? 'the Fastify app has a preSerialization hook, which changes answers after the cache has stored them'
        : undefined,
  };
}
