import { ResponseCacheConfigError } from '../response-cache.errors';
import type { EdgeAdapter } from './edge-adapter';
import { purgeRequest } from './edge-http';

export interface VarnishEdgeOptions {
  /** Base URLs of every Varnish in front of the app (`http://varnish:80`); each is purged. */
  urls: readonly string[];
  /** Keys per `PURGE` request (default 50: their header stays within Varnish's 8 KiB `http_req_hdr_len`). */
  maxKeysPerPurge?: number;
}

/**
 * Varnish with the shipped VCL (`deploy/varnish/default.vcl`, vmod xkey from varnish-modules; or
 * `deploy/varnish/ban.vcl` for plain Varnish): responses carry their keys in `xkey` (space
 * separated) and the edge's lifetime in `CDN-Cache-Control`; a purge is `PURGE /` with the keys
 * in `xkey-purge` (and `xkey-softpurge: 1` for a soft purge) to every URL, which all must take.
 */
export function varnishEdge(options: VarnishEdgeOptions): EdgeAdapter {
  const urls = options.urls.map((url) => {
    try {
      return new URL('/', url).toString();
    } catch {
      throw new ResponseCacheConfigError('edge varnish urls', `"${url}" is not a URL`, 'Use base URLs such as http://varnish:80.');
    }
  });
  if (urls.length === 0) {
    throw new ResponseCacheConfigError(
      'edge varnish urls',
      'no URL given',
      'Name every Varnish instance, e.g. varnishEdge({ urls: ["http://varnish:80"] }).',
    );
  }
  return {
    name: 'varnish',
    tagHeader: 'xkey',
    ttlHeader: 'CDN-Cache-Control',
    // xkey has no limit of its own; Varnish's default http_resp_hdr_len is 8 KiB per header line.
    limits: { separator: ' ', maxHeaderBytes: 4096, maxKeys: 64 },
    maxKeysPerPurge: options.maxKeysPerPurge ?? 50,
    async purge(keys, { soft, signal }) {
      const headers: Record<string, string> = { 'xkey-purge': keys.join(' ') };
      if (soft) headers['xkey-softpurge'] = '1';
      await Promise.all(
        urls.map(async (url) => {
          const response = await purgeRequest(`PURGE ${url}`, url, { method: 'PURGE', headers }, signal);
          await response.arrayBuffer().catch(() => undefined); // frees the connection for the next purge
        }),
      );
    },
  };
}
