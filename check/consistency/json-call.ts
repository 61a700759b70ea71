import { Agent, request } from 'node:http';

/** What came back: the status, the `X-Cache` header, the body parsed as JSON (undefined when empty). */
export interface JsonAnswer {
  status: number;
  xCache: string | null;
  /** `Cache-Status` (RFC 9211): the app's entry, then the edge's (`varnish; hit`) when the request went through one. */
  cacheStatus: string | null;
  /** `Age` (how long a hit's entry has been stored, in seconds). */
  age: string | null;
  body: unknown;
}

/**
 * One HTTP request over `agent` with an optional JSON body; undefined when it fails, takes longer
 * than `timeoutMs`, or answers something that is not JSON. Shared by the consistency workload and
 * the database-load bench.
 */
export function jsonCall(
  agent: Agent,
  url: string,
  method: string,
  options: { body?: unknown; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<JsonAnswer | undefined> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const headers: Record<string, string> = { ...options.headers };
  if (payload !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  return new Promise((resolve) => {
    const req = request(url, { method, headers, agent, timeout: options.timeoutMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        try {
          const xCache = res.headers['x-cache'];
          const cacheStatus = res.headers['cache-status'];
          const age = res.headers.age;
          resolve({
            status: res.statusCode ?? 0,
            xCache: typeof xCache === 'string' ? xCache : null,
            cacheStatus: typeof cacheStatus === 'string' ? cacheStatus : null,
            age: typeof age === 'string' ? age : null,
            body: text === '' ? undefined : JSON.parse(text),
          });
        } catch {
          resolve(undefined);
        }
      });
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end(payload);
  });
}
