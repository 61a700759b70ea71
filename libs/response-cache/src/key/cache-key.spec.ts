import { buildCacheKey, canonicalQuery, normalizePath } from './cache-key';

const base = { method: 'GET', host: 'api.example.com', path: '/api/posts', query: {} };

describe('buildCacheKey', () => {
  it('is deterministic: query parameters sorted by name', () => {
    const a = buildCacheKey({ ...base, query: { page: '2', limit: '10' } });
    const b = buildCacheKey({ ...base, query: { limit: '10', page: '2' } });
    expect(a).toBe('GET api.example.com/api/posts?limit=10&page=2');
    expect(b).toBe(a);
  });

  it('keeps repeated parameters, in the order the handler sees them', () => {
    expect(buildCacheKey({ ...base, query: { tag: ['b', 'a'] } })).toBe('GET api.example.com/api/posts?tag=b&tag=a');
    expect(buildCacheKey({ ...base, query: { tag: ['a', 'b'] } })).not.toBe(buildCacheKey({ ...base, query: { tag: ['b', 'a'] } }));
  });

  it('drops the bypass parameter and nothing else', () => {
    expect(buildCacheKey({ ...base, query: { nocache: 'true', page: '1' }, dropParam: 'nocache' })).toBe(
      'GET api.example.com/api/posts?page=1',
    );
  });

  it('flattens nested objects from extended query parsers', () => {
    expect(canonicalQuery({ filter: { b: '2', a: '1' } })).toBe('filter%5Ba%5D=1&filter%5Bb%5D=2');
  });

  it('keys HEAD as GET, so HEAD is answered from the GET entry', () => {
    expect(buildCacheKey({ ...base, method: 'HEAD' })).toBe(buildCacheKey(base));
  });

  it('separates hosts, and lower-cases them', () => {
    expect(buildCacheKey({ ...base, host: 'API.example.com' })).toBe(buildCacheKey(base));
    expect(buildCacheKey({ ...base, host: 'other.example.com' })).not.toBe(buildCacheKey(base));
  });

  it('normalizes percent-encoding of the path', () => {
    expect(normalizePath('/api/us%65rs/1')).toBe('/api/users/1');
    expect(buildCacheKey({ ...base, path: '/api/p%6Fsts' })).toBe(buildCacheKey(base));
  });

  it('refuses control characters and malformed encodings instead of building a malformed key', () => {
    expect(buildCacheKey({ ...base, query: { q: 'a\nb' } })).toBeUndefined();
    expect(buildCacheKey({ ...base, path: '/api/%0d%0aSet-Cookie' })).toBeUndefined();
    expect(buildCacheKey({ ...base, path: '/api/%E0%A4%A' })).toBeUndefined();
    expect(buildCacheKey({ ...base, host: 'evil.com\r\nx' })).toBeUndefined();
    expect(buildCacheKey({ ...base, vary: [['accept-language', 'en\u0000']] })).toBeUndefined();
  });

  it('encodes separators so that no two requests share a key by accident', () => {
    const a = buildCacheKey({ ...base, query: { a: '1|v:x=y' } });
    const b = buildCacheKey({ ...base, query: { a: '1' }, vary: [['x', 'y']] });
    expect(a).not.toBe(b);
    expect(buildCacheKey({ ...base, query: { a: '1&b=2' } })).not.toBe(buildCacheKey({ ...base, query: { a: '1', b: '2' } }));
  });

  it('includes vary headers, with absent and empty values distinct from present ones', () => {
    const en = buildCacheKey({ ...base, vary: [['accept-language', 'en']] });
    const fr = buildCacheKey({ ...base, vary: [['accept-language', 'fr']] });
    const none = buildCacheKey({ ...base, vary: [['accept-language', undefined]] });
    expect(new Set([en, fr, none]).size).toBe(3);
  });

  it('partitions per user with a hash, never the raw identity', () => {
    const alice = buildCacheKey({ ...base, identity: { scope: 'user', id: 'alice' } })!;
    const bob = buildCacheKey({ ...base, identity: { scope: 'user', id: 'bob' } })!;
    const tenant = buildCacheKey({ ...base, identity: { scope: 'tenant', id: 'alice' } })!;
    expect(alice).not.toBe(bob);
    expect(alice).not.toBe(tenant);
    expect(alice).not.toContain('alice');
    expect(alice).not.toBe(buildCacheKey(base));
  });

  it('hashes keys longer than the maximum, keeping them distinct', () => {
    const long1 = buildCacheKey({ ...base, query: { q: 'x'.repeat(500) } }, 256)!;
    const long2 = buildCacheKey({ ...base, query: { q: `${'x'.repeat(499)}y` } }, 256)!;
    expect(long1.length).toBeLessThanOrEqual(256);
    expect(long1).toMatch(/^GET api\.example\.com\/api\/posts.*#[A-Za-z0-9_-]{43}$/);
    expect(long1).not.toBe(long2);
  });

  it('keeps the identity in custom keys', () => {
    const a = buildCacheKey({ ...base, custom: 'report', identity: { scope: 'user', id: 'a' } });
    const b = buildCacheKey({ ...base, custom: 'report', identity: { scope: 'user', id: 'b' } });
    expect(a).not.toBe(b);
  });
});
