import { Agent, request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { CacheEvents } from 'nestjs-response-cache';
import { FixtureConfig, startFixture } from './fixture-app';

/** The reason the fast lane gives its hits in events. */
const LANE_REASON = 'fast-lane';

/** One request of a sequence. */
export interface Probe {
  method: 'GET' | 'HEAD' | 'POST';
  path: string;
  headers: Record<string, string>;
}

export interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Headers that are the cache's own (or the time's, or the connection's): never compared. */
const IGNORED = new Set([
  'date',
  'connection',
  'keep-alive',
  'x-cache',
  'cache-status',
  'age',
  'etag',
  'last-modified',
  'content-length',
  'content-encoding',
  'transfer-encoding',
]);

/** A small seeded generator (mulberry32), so that a run can be repeated. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rnd: () => number, list: readonly T[]): T => list[Math.floor(rnd() * list.length)];

function paths(versioning: FixtureConfig['versioning']): string[] {
  const versioned =
    versioning === 'uri'
      ? ['/api/v1/versioned', '/api/v2/versioned', '/api/v3/versioned', '/api/versioned/neutral']
      : ['/api/versioned', '/api/versioned/neutral'];
  return [
    '/api/items/featured',
    '/api/items/alpha',
    '/api/items/beta',
    '/api/items/gamma',
    '/api/users/7',
    '/api/users/8',
    '/api/users/9',
    '/api/users/x',
    '/api/users/7/admin',
    '/api/users/7/page',
    '/api/secret',
    '/api/mw',
    '/api/host',
    '/health',
    '/api/health',
    ...versioned,
  ];
}

/** Another spelling of a path: a percent-encoded letter, another case, a trailing or doubled slash, a dot segment. */
function respell(rnd: () => number, path: string): string {
  const kind = Math.floor(rnd() * 7);
  const letters = [...path].map((c, i) => (/[a-z]/.test(c) ? i : -1)).filter((i) => i >= 0);
  const at = pick(rnd, letters);
  switch (kind) {
    case 0:
      return `${path.slice(0, at)}%${path.charCodeAt(at).toString(16)}${path.slice(at + 1)}`;
    case 1:
      return `${path.slice(0, at)}${path[at].toUpperCase()}${path.slice(at + 1)}`;
    case 2:
      return `${path}/`;
    case 3:
      return path.replace('/', '//');
    case 4:
      return path.replace(/\/([^/]*)$/, '/./$1');
    default:
      return path;
  }
}

const QUERIES = ['', '', '', '?label=x', '?a=1&b=2', '?b=2&a=1', '?a=1&a=2', '?a=2&a=1', '?n=2', '?n=02', '?label=x&label=y'];

function headers(rnd: () => number, versioning: FixtureConfig['versioning']): Record<string, string> {
  const h: Record<string, string> = {};
  const maybe = (name: string, values: string[]) => {
    const value = pick(rnd, [...values, '']);
    if (value !== '') h[name] = value;
  };
  maybe('x-key', ['k1', 'k1', 'wrong']);
  maybe('x-mw-key', ['m1', 'm1', 'no']);
  maybe('x-hook-key', ['h1', 'h1']);
  maybe('accept-encoding', ['gzip', 'gzip, deflate, br', 'identity']);
  maybe('host', ['a.example.test', 'b.example.test']);
  if (rnd() < 0.05) h['x-deny'] = 'validation';
  if (versioning === 'header') maybe('x-api-version', ['1', '2', '2', '3']);
  if (versioning === 'media') maybe('accept', ['application/json;v=1', 'application/json;v=2', 'application/json']);
  if (versioning === 'custom') maybe('x-custom-version', ['1', '2', '3']);
  return h;
}

/** A sequence: a few reads (GET/HEAD, spellings, queries, headers) with now and then a write. */
export function sequence(rnd: () => number, versioning: FixtureConfig['versioning']): Probe[] {
  const probes: Probe[] = [];
  const base = pick(rnd, paths(versioning));
  const baseQuery = pick(rnd, QUERIES);
  const baseHeaders = headers(rnd, versioning);
  const length = 2 + Math.floor(rnd() * 4);
  for (let i = 0; i < length; i++) {
    if (rnd() < 0.12) {
      const target = pick(rnd, ['/api/items/featured', '/api/items/alpha', '/api/items/beta', '/api/users/7', '/api/users/8']);
      probes.push({ method: 'POST', path: target, headers: { 'content-type': 'application/json', 'x-hook-key': 'h1' } });
      continue;
    }
    // Mostly the sequence's own request again (hits), now and then another path, spelling or query.
    const same = rnd() < 0.6;
    const path = same ? base : pick(rnd, paths(versioning));
    const spelled = rnd() < 0.3 ? respell(rnd, path) : path;
    const query = same && rnd() < 0.8 ? baseQuery : pick(rnd, QUERIES);
    probes.push({
      method: rnd() < 0.15 ? 'HEAD' : 'GET',
      path: spelled + query,
      headers: same && rnd() < 0.7 ? baseHeaders : headers(rnd, versioning),
    });
  }
  return probes;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });

export function send(base: string, probe: Probe): Promise<Answer> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const body = probe.method === 'POST' ? '{}' : undefined;
    const req = request(
      { host: url.hostname, port: url.port, method: probe.method, path: probe.path, headers: probe.headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let raw = Buffer.concat(chunks);
          if (res.headers['content-encoding'] === 'gzip' && raw.length > 0) raw = gunzipSync(raw);
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
          resolve({ status: res.statusCode ?? 0, headers, body: raw.toString('utf8') });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function varyNames(value: string | undefined): Set<string> {
  return new Set(
    (value ?? '')
      .split(',')
      .map((n) => n.trim().toLowerCase())
      .filter((n) => n !== ''),
  );
}

/** What differs between the answer without the cache and the one with it, or undefined. */
export function difference(off: Answer, on: Answer): string | undefined {
  if (off.status !== on.status) return `status ${off.status} → ${on.status} (${on.body.slice(0, 120)})`;
  if (off.body !== on.body) return `body ${off.body.slice(0, 120)} → ${on.body.slice(0, 120)}`;
  for (const name of new Set([...Object.keys(off.headers), ...Object.keys(on.headers)])) {
    if (IGNORED.has(name)) continue;
    const a = off.headers[name];
    const b = on.headers[name];
    if (name === 'cache-control' && a === undefined) continue;
    if (name === 'vary') {
      if ([...varyNames(a)].every((n) => varyNames(b).has(n))) continue;
    } else if (a === b) continue;
    return `header ${name}: ${a ?? '(none)'} → ${b ?? '(none)'}`;
  }
  return undefined;
}

/** Runs `count` sequences against the app with the cache off and with it on; the differences found. */
export async function checkTransparency(
  config: FixtureConfig,
  count: number,
  seed: number,
): Promise<{ sequences: number; requests: number; hits: number; laneHits: number; differences: string[] }> {
  const off = await startFixture({ ...config, cache: false });
  const on = await startFixture({ ...config, cache: true });
  let hits = 0;
  let laneHits = 0;
  const unsubscribe = on.app.get(CacheEvents).subscribe((event) => {
    if (event.type !== 'hit') return;
    hits++;
    if (event.reason === LANE_REASON) laneHits++;
  });
  const rnd = random(seed);
  const differences: string[] = [];
  let requests = 0;
  try {
    for (let s = 0; s < count; s++) {
      for (const probe of sequence(rnd, config.versioning)) {
        const a = await send(off.url, probe);
        const b = await send(on.url, probe);
        requests++;
        const found = difference(a, b);
        if (found !== undefined) differences.push(`${probe.method} ${probe.path} ${JSON.stringify(probe.headers)}: ${found}`);
      }
    }
  } finally {
    unsubscribe();
    await off.close();
    await on.close();
  }
  return { sequences: count, requests, hits, laneHits, differences };
}
