import { ManualClock } from '../clock';
import type { HttpExchange } from './http-exchange';
import { uriTag } from '../key/cache-key';
import { cloudflareEdge } from '../edge/cloudflare.edge';
import { EdgeHeaders, EdgePlan } from './edge-headers';
import { fastlyEdge } from '../edge/fastly.edge';
import { resolveEdge, resolveRouteEdge } from '../options/edge-options';
import { varnishEdge } from '../edge/varnish.edge';

function exchange(): HttpExchange & { set: Map<string, string> } {
  const set = new Map<string, string>();
  return {
    set,
    setHeader: (name: string, value: string) => set.set(name.toLowerCase(), value),
    getHeader: (name: string) => set.get(name.toLowerCase()),
  } as unknown as HttpExchange & { set: Map<string, string> };
}

const plan = (over: Partial<EdgePlan> = {}): EdgePlan => ({ scope: 'public', ttlMs: 300_000, label: 'GET /x', ...over });
const tags = ['users', 'user:1', uriTag('/api/users/1')];
const varnish = new EdgeHeaders(resolveEdge({ adapter: varnishEdge({ urls: ['http://v:80'] }) }), new ManualClock());

describe('EdgeHeaders', () => {
  it('marks a public cached response with its keys and the edge lifetime (the route ttl by default)', () => {
    const ex = exchange();
    varnish.refuse(ex);
    varnish.mark(ex, plan(), tags);
    expect(ex.set.get('xkey')).toMatch(/^users user:1 uri-[A-Za-z0-9_-]{22}$/);
    expect(ex.set.get('cdn-cache-control')).toBe('max-age=300');
  });

  it('says no-store to the edge for per-user and per-tenant routes, routes with edge: false, and a zero lifetime', () => {
    for (const p of [plan({ scope: 'user' }), plan({ scope: 'tenant' }), plan({ edge: false }), plan({ edge: { ttl: 0 } })]) {
      const ex = exchange();
      varnish.mark(ex, p, tags);
      expect(ex.set.get('xkey')).toBeUndefined();
      expect(ex.set.get('cdn-cache-control')).toBe('no-store, max-age=0');
    }
  });

  it('takes the module ttl and stale window, and a route override over them', () => {
    const edge = new EdgeHeaders(
      resolveEdge({ adapter: fastlyEdge({ serviceId: 's', apiKey: 'k' }), ttl: 3600, staleWhileRevalidate: 30 }),
      new ManualClock(),
    );
    const ex = exchange();
    edge.mark(ex, plan(), tags);
    expect(ex.set.get('surrogate-control')).toBe('max-age=3600, stale-while-revalidate=30');
    expect(ex.set.get('surrogate-key')).toMatch(/^users user:1 uri-/);
    const routed = exchange();
    edge.mark(routed, plan({ edge: resolveRouteEdge({ ttl: 60, staleWhileRevalidate: 0 }) }), tags);
    expect(routed.set.get('surrogate-control')).toBe('max-age=60');
  });

  it('keeps a response off the edge when its keys exceed the edge limits', () => {
    const many = Array.from({ length: 65 }, (_, i) => `t:${i}`);
    const ex = exchange();
    varnish.mark(ex, plan(), many);
    expect(ex.set.get('xkey')).toBeUndefined();
    expect(ex.set.get('cdn-cache-control')).toBe('no-store, max-age=0');
  });

  it('writes Cloudflare tags comma separated, and nothing at all without an edge', () => {
    const cf = new EdgeHeaders(resolveEdge({ adapter: cloudflareEdge({ zoneId: 'z', apiToken: 't' }) }), new ManualClock());
    const ex = exchange();
    cf.mark(ex, plan(), ['posts', 'post:1']);
    expect(ex.set.get('cache-tag')).toBe('posts,post:1');
    const none = new EdgeHeaders(undefined, new ManualClock());
    const bare = exchange();
    none.refuse(bare);
    none.mark(bare, plan(), tags);
    expect(bare.set.size).toBe(0);
  });

  it('refuses options that are not an edge', () => {
    expect(() => resolveEdge({ adapter: {} as never })).toThrow(/edge\.adapter/);
    expect(() => resolveEdge({ adapter: varnishEdge({ urls: ['http://v'] }), tll: 1 } as never)).toThrow(/Did you mean "ttl"/);
    expect(() => varnishEdge({ urls: [] })).toThrow(/no URL/);
    expect(() => resolveRouteEdge({ ttl: -1 })).toThrow(/edge\.ttl/);
  });
});
