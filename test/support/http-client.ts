import { request as httpRequest } from 'node:http';

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request that fetch() will not send (a GET with a body, raw control characters). */
export function rawRequest(
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const headers = {
      ...options.headers,
      ...(options.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(options.body)) }),
    };
    const req = httpRequest(`${url}${options.path}`, { method: options.method ?? 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** GET `path` on a running app (the body read, so the connection is free) and return its `X-Cache`. */
export async function xCacheOf(app: { url: string }, path: string): Promise<string | null> {
  const res = await fetch(`${app.url}${path}`);
  await res.arrayBuffer();
  return res.headers.get('x-cache');
}
