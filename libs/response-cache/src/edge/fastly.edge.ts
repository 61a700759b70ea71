import type { EdgeAdapter } from './edge-adapter';
import { purgeRequest } from './edge-http';

export interface FastlyEdgeOptions {
  serviceId: string;
  /** An API token with the `purge_select` scope, sent as `Fastly-Key`. */
  apiKey: string;
  /** Default https://api.fastly.com (tests point it at a local server). */
  apiUrl?: string;
}

/**
 * Fastly: keys in `Surrogate-Key` (space separated; Fastly takes keys up to 1,024 bytes and the
 * header up to 16,384 bytes, and strips it before the browser), the edge's lifetime in
 * `Surrogate-Control` (which Fastly strips too). A purge is the batch surrogate-key purge,
 * `POST /service/{id}/purge` with `{"surrogate_keys": [...]}` (256 keys per request at most),
 * `Fastly-Soft-Purge: 1` for a soft purge.
 */
export function fastlyEdge(options: FastlyEdgeOptions): EdgeAdapter {
  const url = `${(options.apiUrl ?? 'https://api.fastly.com').replace(/\/+$/, '')}/service/${encodeURIComponent(options.serviceId)}/purge`;
  return {
    name: 'fastly',
    tagHeader: 'Surrogate-Key',
    ttlHeader: 'Surrogate-Control',
    limits: { separator: ' ', maxHeaderBytes: 16_384, maxKeys: 1000 },
    maxKeysPerPurge: 256,
    async purge(keys, { soft, signal }) {
      const headers: Record<string, string> = {
        'Fastly-Key': options.apiKey,
        Accept: 'application/json',
        'Content-Type': 'application/json',
      };
      if (soft) headers['Fastly-Soft-Purge'] = '1';
      const response = await purgeRequest(
        `Fastly purge`,
        url,
        { method: 'POST', headers, body: JSON.stringify({ surrogate_keys: keys }) },
        signal,
      );
      await response.arrayBuffer().catch(() => undefined); // frees the connection for the next purge
    },
  };
}
