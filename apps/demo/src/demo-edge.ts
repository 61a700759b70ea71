import { cloudflareEdge, fastlyEdge, varnishEdge } from 'nestjs-response-cache';
import type { EdgeAdapter, ResponseCacheModuleOptions } from 'nestjs-response-cache';

type EdgeOptions = NonNullable<ResponseCacheModuleOptions['edge']>;
import type { DemoConfig } from './demo.config';

/** The demo's `edge` option from CACHE_EDGE and its variables; undefined without an edge. */
export function createDemoEdge(demo: DemoConfig): EdgeOptions | undefined {
  if (demo.cacheEdge === undefined) return undefined;
  const credentials = demo.edgeCredentials;
  let adapter: EdgeAdapter;
  if (demo.cacheEdge === 'varnish') adapter = varnishEdge({ urls: demo.varnishUrls });
  else if (demo.cacheEdge === 'fastly')
    adapter = fastlyEdge({ serviceId: credentials.fastlyServiceId!, apiKey: credentials.fastlyApiKey! });
  else adapter = cloudflareEdge({ zoneId: credentials.cloudflareZoneId!, apiToken: credentials.cloudflareApiToken! });
  return {
    adapter,
    ...(demo.edgeTtlSeconds === undefined ? {} : { ttl: demo.edgeTtlSeconds }),
    purgeTimeoutMs: demo.edgePurgeTimeoutMs,
    softPurge: demo.edgeSoftPurge,
  };
}
