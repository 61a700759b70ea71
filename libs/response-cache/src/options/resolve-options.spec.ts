import { Logger } from '@nestjs/common';
import { Cacheable } from '../decorators/cacheable.decorator';
import { CACHEABLE_OPTIONS } from '../decorators/cacheable-options';
import { InvalidateTags } from '../decorators/invalidate-tags.decorator';
import { ResponseCacheConfigError } from '../response-cache.errors';
import { MODULE_OPTIONS } from './module-options';
import { resolveOptions } from './resolve-options';

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
    [{ maxMemoryBytes: -5 }, /"maxMemoryBytes"/],
    [{ cacheableStatuses: [200, 99] }, /"cacheableStatuses"/],
    [{ cacheStatusName: 'has space' }, /"cacheStatusName"/],
    [{ bypassQueryParam: '' }, /"bypassQueryParam"/],
    [{ maxKeyLength: 10 }, /"maxKeyLength"/],
    [{ identity: { user: 'x' as never } }, /"identity\.user"/],
    [{ identity: 'x' as never }, /"identity": expected an options object/],
    [{ enabled: 'false' as never }, /"enabled": expected true or false/],
    [{ stampede: { waitMs: -1 } }, /"stampede\.waitMs"/],
    [{ adminToken: 5 as never }, /"adminToken": expected a string/],
    [{ clock: {} as never }, /"clock": expected a Clock/],
    [{ resilience: { failureThreshold: 0 } }, /"resilience\.failureThreshold"/],
  ])('refuses %j with a message naming the option and the fix', (options, message) => {
    expect(() => resolveOptions(options)).toThrow(ResponseCacheConfigError);
    expect(() => resolveOptions(options)).toThrow(message);
  });

  it('checks every option and every field of a group: a value of the wrong kind is refused, naming it', () => {
    const bad = Symbol('not an option value');
    const names = Object.entries(MODULE_OPTIONS).flatMap(([name, row]) => [
      name,
      ...Object.keys('rows' in row ? row.rows : {}).map((field) => `${name}.${field}`),
    ]);
    expect(names.length).toBeGreaterThan(35);
    for (const name of names) {
      const [group, field] = name.split('.');
      const options = (field === undefined ? { [group]: bad } : { [group]: { [field]: bad } }) as never;
      expect(() => resolveOptions(options)).toThrow(new RegExp(`invalid option "${name.replace('.', '\\.')}"`));
    }
  });

  it('takes the deprecated flat names as their group fields, with one warning line each per process', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const user = () => 'u';
    const o = resolveOptions({ userIdentity: user, identitySecret: 'a'.repeat(16), stampedeWaitMs: 50, circuitBreaker: { cooldownMs: 7 } });
    resolveOptions({ identitySecret: 'b'.repeat(16) });
    expect(o.identity.user).toBe(user);
    expect(o.identity.secret).toBe('a'.repeat(16));
    expect(o.stampede.waitMs).toBe(50);
    const lines = warn.mock.calls.map(([line]) => String(line));
    expect(lines.filter((line) => line.includes('identitySecret is deprecated'))).toHaveLength(1);
    expect(lines).toContain('option circuitBreaker is deprecated and goes in 0.3: write resilience: { cooldownMs }');
    warn.mockRestore();
  });

  it('refuses both spellings of one field', () => {
    expect(() => resolveOptions({ opTimeoutMs: 50, resilience: { opTimeoutMs: 60 } })).toThrow(
      /"opTimeoutMs": is the deprecated spelling of resilience\.opTimeoutMs, which is set too/,
    );
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
    [{ anonymous: 'public' as const }, /anonymous.*scope: "user"/],
    [{ scope: 'public' as const, anonymous: 'public' as const }, /anonymous.*scope: "user"/],
    [{ scope: 'user' as const, anonymous: 'shared' as never }, /"shared" is not a policy/],
    [{ resultTags: ['post:1'] as never }, /resultTags.*expected a function/],
  ])('@Cacheable(%j) throws', (options, message) => {
    expect(() => Cacheable(options)).toThrow(message);
  });

  it('checks every @Cacheable option: a value of the wrong kind is refused, naming it', () => {
    const bad = Symbol('not an option value');
    for (const name of Object.keys(CACHEABLE_OPTIONS)) {
      expect(() => Cacheable({ [name]: bad } as never)).toThrow(new RegExp(`invalid option "@Cacheable ${name}"`));
    }
  });

  it('@Cacheable takes anonymous on per-user and per-tenant routes, and resultTags as a function', () => {
    expect(() => Cacheable({ scope: 'user', anonymous: 'public' })).not.toThrow();
    expect(() => Cacheable({ scope: 'tenant', anonymous: 'bypass' })).not.toThrow();
    expect(() => Cacheable({ resultTags: (posts: { id: number }[]) => posts.map((p) => `post:${p.id}`) })).not.toThrow();
  });

  it('@InvalidateTags needs tags', () => {
    expect(() => InvalidateTags()).toThrow(/at least one tag/);
    expect(() => InvalidateTags('ok', 'user:{id}')).not.toThrow();
  });
});

describe('messages for people outside this repository', () => {
  it('refuses unknown option keys, naming the key and the nearest valid one', () => {
    expect(() => resolveOptions({ tll: 60 } as never)).toThrow(/invalid option "tll": no such option\. Did you mean "ttl"\?/);
    expect(() => resolveOptions({ maxMemoryByte: 1e6 } as never)).toThrow(/Did you mean "maxMemoryBytes"/);
    expect(() => resolveOptions({ compression: { treshold: 5 } } as never)).toThrow(/"compression\.treshold".*"thresholdBytes"/);
    expect(() => resolveOptions({ zzzzzzzz: 1 } as never)).toThrow(/Known options: store, ttl/);
    expect(() => Cacheable({ tll: 60 } as never)).toThrow(/"@Cacheable tll": no such option\. Did you mean "ttl"\?/);
    expect(() => Cacheable({ tag: ['users'] } as never)).toThrow(/Did you mean "tags"\?/);
    expect(() => Cacheable({ cacheControl: { maxage: 5 } } as never)).toThrow(/"@Cacheable cacheControl\.maxage".*"maxAge"/);
  });

  it('says NaN, not null', () => {
    expect(() => resolveOptions({ ttl: NaN })).toThrow(/got NaN/);
    expect(() => resolveOptions({ maxKeyLength: NaN })).toThrow(/got NaN/);
    expect(() => Cacheable({ ttl: NaN })).toThrow(/got NaN/);
  });

  it('refuses module extras returned by a factory, saying where they go', () => {
    expect(() => resolveOptions({ adminRoutes: true } as never)).toThrow(/"adminRoutes".*beside useFactory/);
  });

  it('warns once when a TTL looks like milliseconds, and not for plausible seconds', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      Cacheable({ ttl: 60_000 });
      resolveOptions({ ttl: 700_000 });
      expect(warn).toHaveBeenCalledTimes(2);
      expect(String(warn.mock.calls[0][0])).toMatch(/@Cacheable ttl: 60000 is 16\.7 hours: TTLs here are in seconds.*did you mean 60\?/);
      warn.mockClear();
      Cacheable({ ttl: 3600 });
      resolveOptions({ ttl: 86_400 }); // a day is a plausible default; a week and more is not
      resolveOptions({ ttl: 60_000 });
      expect(warn).not.toHaveBeenCalled();
    } finally {
      warn.mockRestore();
    }
  });

  it('names no variable of the demo app in any message', () => {
    const messages: string[] = [];
    for (const bad of [{ maxMemoryBytes: 1 }, { resilience: { opTimeoutMs: 0 } }, { compression: { thresholdBytes: -1 } }]) {
      try {
        resolveOptions(bad);
      } catch (error) {
        messages.push((error as Error).message);
      }
    }
    expect(messages).toHaveLength(3);
    for (const message of messages) expect(message).not.toMatch(/CACHE_|REDIS_|demo/);
  });
});

describe('remote stores', () => {
  it('wraps a store that is not local with a timeout and a circuit breaker, and leaves the memory store alone', () => {
    const remote = Object.assign(Object.create(resolveOptions().store) as object, { name: 'remote', local: false });
    const resolved = resolveOptions({ store: remote as never, resilience: { opTimeoutMs: 50 } });
    expect(resolved.store.constructor.name).toBe('ResilientCacheStore');
    expect(resolveOptions().store.constructor.name).toBe('MemoryCacheStore');
  });

  it('refuses an op timeout above 250 ms', () => {
    expect(() => resolveOptions({ resilience: { opTimeoutMs: 1000 } })).toThrow(/"resilience\.opTimeoutMs".*from 1 to 250/s);
    expect(() => resolveOptions({ circuitBreaker: { cooldownMs: -1 } })).toThrow(/resilience\.cooldownMs/);
  });
});
