import { Cacheable } from './decorators/cacheable.decorator';
import { InvalidateTags } from './decorators/invalidate-tags.decorator';
import { ResponseCacheConfigError } from './response-cache.errors';
import { resolveOptions } from './response-cache.options';

describe('resolveOptions', () => {
  it('fills in the documented defaults', () => {
    const o = resolveOptions();
    expect(o.ttlMs).toBe(300_000);
    expect([...o.cacheableStatuses]).toEqual([200]);
    expect(o.cacheStatusName).toBe('ResponseCache');
    expect(o.bypassQueryParam).toBe('nocache');
    expect(o.maxKeyLength).toBe(256);
    expect(o.store.name).toBe('memory');
    expect(o.enabled).toBe(true);
  });

  it.each([
    [{ ttl: 0 }, /"ttl".*seconds/],
    [{ ttl: '60' as unknown as number }, /"ttl"/],
    [{ maxMemoryBytes: -5 }, /CACHE_MAX_MEMORY_MB/],
    [{ cacheableStatuses: [200, 99] }, /"cacheableStatuses"/],
    [{ cacheStatusName: 'has space' }, /"cacheStatusName"/],
    [{ bypassQueryParam: '' }, /"bypassQueryParam"/],
    [{ maxKeyLength: 10 }, /"maxKeyLength"/],
    [{ userIdentity: 'x' as never }, /"userIdentity"/],
  ])('refuses %j with a message naming the option and the fix', (options, message) => {
    expect(() => resolveOptions(options)).toThrow(ResponseCacheConfigError);
    expect(() => resolveOptions(options)).toThrow(message);
  });
});

describe('decorator validation (at decoration time)', () => {
  it.each([
    [{ ttl: -1 }, /ttl/],
    [{ scope: 'everyone' as never }, /scope/],
    [{ varyBy: ['Authorization'] }, /scope: "user"/],
    [{ varyBy: ['bad header'] }, /header name/],
    [{ tags: [''] }, /not a tag/],
    [{ scope: 'user' as const, cacheControl: 'public, max-age=60' }, /shared caches/],
    [{ scope: 'user' as const, cacheControl: { sMaxAge: 60 } }, /sMaxAge/],
    [{ statuses: [700] }, /statuses/],
  ])('@Cacheable(%j) throws', (options, message) => {
    expect(() => Cacheable(options)).toThrow(message);
  });

  it('@InvalidateTags needs tags', () => {
    expect(() => InvalidateTags()).toThrow(/at least one tag/);
    expect(() => InvalidateTags('ok', 'user:{id}')).not.toThrow();
  });
});

describe('remote stores', () => {
  it('wraps a store that is not local with a timeout and a circuit breaker, and leaves the memory store alone', () => {
    const remote = Object.assign(Object.create(resolveOptions().store) as object, { name: 'remote', local: false });
    const resolved = resolveOptions({ store: remote as never, opTimeoutMs: 50 });
    expect(resolved.store.constructor.name).toBe('ResilientCacheStore');
    expect(resolveOptions().store.constructor.name).toBe('MemoryCacheStore');
  });

  it('refuses an op timeout above 250 ms', () => {
    expect(() => resolveOptions({ opTimeoutMs: 1000 })).toThrow(/"opTimeoutMs".*CACHE_OP_TIMEOUT_MS/s);
    expect(() => resolveOptions({ circuitBreaker: { cooldownMs: -1 } })).toThrow(/circuitBreaker.cooldownMs/);
  });
});
