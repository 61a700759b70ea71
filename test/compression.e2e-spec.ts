import { gunzipSync } from 'node:zlib';
import { ADAPTERS } from './support/boot-app';
import { RunningFixture, startFixture } from './support/fixture-api';
import { rawRequest } from './support/http-client';

/** A raw HTTP client: it neither asks for nor undoes any content coding unless told to. */
async function raw(fixture: RunningFixture, path: string, headers: Record<string, string> = {}) {
  const { request } = await import('node:http');
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; bytes: Buffer }>((resolve, reject) => {
    const req = request(`${fixture.url}${path}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.each(ADAPTERS)('compressed hits on %s', (adapter) => {
  let fixture: RunningFixture;
  beforeEach(async () => {
    fixture = await startFixture(adapter, { compression: { enabled: true, thresholdBytes: 200 } });
  });
  afterEach(async () => {
    await fixture.close();
  });

  const PATH = '/api/posts?limit=20'; // about 1.5 KB of JSON

  it('sends the stored gzip bytes as they are to a client that accepts gzip, with their own ETag', async () => {
    const identity = await raw(fixture, PATH);
    const miss = await raw(fixture, PATH, { 'accept-encoding': 'gzip' });
    const hit = await raw(fixture, PATH, { 'accept-encoding': 'gzip, br;q=0.5' });
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.headers['content-encoding']).toBe('gzip');
    expect(hit.headers.vary).toMatch(/Accept-Encoding/);
    expect(hit.bytes.length).toBeLessThan(identity.bytes.length);
    expect(gunzipSync(hit.bytes).toString()).toBe(identity.bytes.toString());
    expect(hit.headers.etag).not.toBe(identity.headers.etag);
    expect(hit.headers.etag).toBe(miss.headers.etag);
    // Conditional requests compare with the representation sent.
    const revalidated = await raw(fixture, PATH, { 'accept-encoding': 'gzip', 'if-none-match': String(hit.headers.etag) });
    expect(revalidated.status).toBe(304);
    const otherRepresentation = await raw(fixture, PATH, { 'if-none-match': String(hit.headers.etag) });
    expect(otherRepresentation.status).toBe(200);
  });

  it('decompresses for a client that does not accept gzip (or refuses it with q=0)', async () => {
    await raw(fixture, PATH, { 'accept-encoding': 'gzip' });
    const cases: Record<string, string>[] = [{}, { 'accept-encoding': 'identity' }, { 'accept-encoding': 'gzip;q=0, deflate' }];
    for (const headers of cases) {
      const res = await raw(fixture, PATH, headers);
      expect(res.headers['x-cache']).toBe('HIT');
      expect(res.headers['content-encoding']).toBeUndefined();
      expect(JSON.parse(res.bytes.toString())).toHaveProperty('posts');
    }
  });

  it('a client that decompresses on its own (fetch) gets the same JSON', async () => {
    const first = await (await fetch(`${fixture.url}${PATH}`)).json();
    const res = await fetch(`${fixture.url}${PATH}`);
    expect(res.headers.get('x-cache')).toBe('HIT');
    expect(res.headers.get('content-encoding')).toBe('gzip');
    expect(await res.json()).toEqual(first);
  });

  it('HEAD of a compressed hit has no body', async () => {
    await raw(fixture, PATH, { 'accept-encoding': 'gzip' });
    const head = await rawRequest(fixture.url, { method: 'HEAD', path: PATH, headers: { 'accept-encoding': 'gzip' } });
    expect(head.headers['content-encoding']).toBe('gzip');
    expect(head.body).toBe('');
  });

  it('leaves small bodies alone', async () => {
    await raw(fixture, '/api/users/1', { 'accept-encoding': 'gzip' });
    const hit = await raw(fixture, '/api/users/1', { 'accept-encoding': 'gzip' });
    expect(hit.headers['x-cache']).toBe('HIT');
    expect(hit.headers['content-encoding']).toBeUndefined();
  });
});
