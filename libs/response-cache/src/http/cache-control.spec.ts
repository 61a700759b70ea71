import { forbidsSharedStorage, renderCacheControl } from './cache-control';

describe('renderCacheControl', () => {
  it('defaults to revalidate-always, private on per-user routes', () => {
    expect(renderCacheControl(undefined, 'public')).toBe('no-cache, max-age=0');
    expect(renderCacheControl(undefined, 'user')).toBe('private, no-cache, max-age=0');
    expect(renderCacheControl(undefined, 'tenant')).toBe('private, no-cache, max-age=0');
  });

  it('renders directives in seconds', () => {
    expect(renderCacheControl({ public: true, maxAge: 60, sMaxAge: 120, staleWhileRevalidate: 30 }, 'public')).toBe(
      'public, max-age=60, s-maxage=120, stale-while-revalidate=30',
    );
    expect(renderCacheControl({ maxAge: 60 }, 'public')).toBe('max-age=60');
    expect(renderCacheControl({ public: true, maxAge: 60, sMaxAge: 120 }, 'user')).toBe('private, max-age=60');
  });

  it('always adds private to a literal on per-user routes, and false leaves public routes alone', () => {
    expect(renderCacheControl('max-age=5', 'user')).toBe('private, max-age=5');
    expect(renderCacheControl('private, max-age=5', 'user')).toBe('private, max-age=5');
    expect(renderCacheControl(false, 'public')).toBeUndefined();
    expect(renderCacheControl(false, 'user')).toBe('private');
  });

  it('recognizes responses that forbid shared storage', () => {
    expect(forbidsSharedStorage('private, max-age=0')).toBe(true);
    expect(forbidsSharedStorage('no-store')).toBe(true);
    expect(forbidsSharedStorage('public, max-age=60')).toBe(false);
    expect(forbidsSharedStorage(undefined)).toBe(false);
  });
});
