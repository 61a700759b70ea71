import type { EdgeAdapter } from './edge-adapter';
import { EdgePurgeError } from './edge-adapter';
import { purgeRequest } from './edge-http';
import { TokenBucket } from './token-bucket';

export interface CloudflareEdgeOptions {
  zoneId: string;
  /** An API token with the Cache Purge permission, sent as `Authorization: Bearer`. */
  apiToken: string;
  /** Default https://api.cloudflare.com (tests point it at a local server). */
  apiUrl?: string;
  /** Tags per purge request: default 30 (Cloudflare's documented limit for years; now 100 on every plan). */
  tagsPerRequest?: number;
  /** Purge requests per second this process sends at most: default 5 (Pro, Free is 5 a minute; Business 10, Enterprise 50). */
  requestsPerSecond?: number;
  /** Burst of purge requests: default 25 (Free and Pro; Business 50, Enterprise 500). */
  burst?: number;
}

/**
 * Cloudflare: keys in `Cache-Tag` (comma separated, compared without case; Cloudflare takes up
 * to 16 KB of them and strips the header before the browser), the edge's lifetime in
 * `CDN-Cache-Control` (RFC 9213). A purge is `POST /client/v4/zones/{zone}/purge_cache` with
 * `{"tags": [...]}`, within the account's token bucket (kept here too, and a 429's
 * `Retry-After` honoured). Cloudflare has no soft purge by tag: `softPurge` purges hard.
 */
export function cloudflareEdge(options: CloudflareEdgeOptions): EdgeAdapter {
  const base = (options.apiUrl ?? 'https://api.cloudflare.com').replace(/\/+$/, '');
  const url = `${base}/client/v4/zones/${encodeURIComponent(options.zoneId)}/purge_cache`;
  const bucket = new TokenBucket(options.requestsPerSecond ?? 5, options.burst ?? 25);
  return {
    name: 'cloudflare',
    tagHeader: 'Cache-Tag',
    ttlHeader: 'CDN-Cache-Control',
    limits: { separator: ',', maxHeaderBytes: 16 * 1024, maxKeys: 1000 },
    maxKeysPerPurge: options.tagsPerRequest ?? 30,
    async purge(keys, { signal }) {
      await bucket.take(signal);
      const response = await purgeRequest(
        'Cloudflare purge',
        url,
        {
          method: 'POST',
          headers: { Authorization: `Bearer ${options.apiToken}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ tags: keys }),
        },
        signal,
      );
      const answer = (await response.json().catch(() => undefined)) as { success?: boolean; errors?: unknown } | undefined;
      if (answer?.success !== true)
        throw new EdgePurgeError(`Cloudflare purge was not successful: ${JSON.stringify(answer?.errors ?? answer)}`);
    },
  };
}
