import { CacheEvents } from 'nestjs-response-cache';
import { ResponseCacheLiveController } from 'nestjs-response-cache/internal/admin/response-cache-live.controller';
import { ADAPTERS } from './support/boot-app';
import { RunningFixture, startFixture } from './support/fixture-api';
import { EventStreamClient } from './support/event-stream-client';

const TOKEN = 'events-admin-token';

describe.each(ADAPTERS)('GET /admin/cache/events on %s', (adapter) => {
  let fixture: RunningFixture;
  let clients: EventStreamClient[];
  const open = async () => {
    const client = await EventStreamClient.open(fixture.url, TOKEN);
    clients.push(client);
    return client;
  };
  const get = async (path: string, init?: RequestInit) => (await fetch(`${fixture.url}${path}`, init)).arrayBuffer();

  beforeEach(() => {
    clients = [];
  });
  afterEach(async () => {
    for (const client of clients) client.close();
    await fixture.close();
  });

  it('answers 401 without the token or with a wrong one', async () => {
    fixture = await startFixture(adapter, { adminToken: TOKEN });
    for (const headers of [{}, { authorization: 'Bearer wrong' }] as Record<string, string>[]) {
      const res = await fetch(`${fixture.url}/admin/cache/events`, { headers });
      await res.arrayBuffer();
      expect(res.status).toBe(401);
    }
  });

  it('streams one event per miss, hit, bypass and invalidation, with the route pattern and no body', async () => {
    fixture = await startFixture(adapter, { adminToken: TOKEN });
    const client = await open();
    expect(client.response.statusCode).toBe(200);
    expect(client.response.headers['content-type']).toMatch(/^text\/event-stream/);
    await get('/api/users/2');
    await get('/api/users/2');
    await get('/api/users/2?nocache=true');
    await get('/api/users/2', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Zed' }) });
    await client.until((events) => events.some((e) => e.event === 'invalidation'), 'invalidation');
    const seen = client.events.map((e) => [e.event, e.data.route ?? e.data.tags]);
    expect(seen).toEqual([
      ['miss', '/api/users/:id'],
      ['hit', '/api/users/:id'],
      ['bypass', '/api/users/:id'],
      ['invalidation', ['users', 'user:2']],
    ]);
    expect(client.events[1].data).toMatchObject({ type: 'hit', key: expect.any(String) as string, at: expect.any(String) as string });
    expect(JSON.stringify(client.events)).not.toContain('Zed');
    expect(new Set(client.events.map((e) => e.id)).size).toBe(4);
  });

  it('sends at most maxEventsPerSecond and reports the rest as sampled out', async () => {
    fixture = await startFixture(adapter, { adminToken: TOKEN, eventStream: { maxEventsPerSecond: 10 } });
    const client = await open();
    const events = fixture.app.get(CacheEvents);
    for (let i = 0; i < 100; i++) events.emit({ type: i % 2 === 0 ? 'hit' : 'miss', route: '/r', key: `k${i}` });
    await client.until((e) => e.length === 10, 'the first ten events');
    // A second later (on the cache's clock) the budget is back, and the report goes out with the next event.
    fixture.clock.advance(1000);
    events.emit({ type: 'hit', route: '/r', key: 'after' });
    await client.until((e) => e.some((x) => x.data.key === 'after'), 'event after the refill');
    expect(client.events.slice(0, 10).map((e) => e.data.key)).toEqual(Array.from({ length: 10 }, (_, i) => `k${i}`));
    expect(client.events.slice(10).map((e) => e.event)).toEqual(['hit', 'sampled']);
    expect(client.events[11].data).toMatchObject({ sampledOut: 90, dropped: 0, byType: { hit: 45, miss: 45 } });
  });

  it('a slow reader under a burst: the app keeps a bounded queue, drops the oldest, and the stream goes on', async () => {
    fixture = await startFixture(adapter, { adminToken: TOKEN, eventStream: { maxEventsPerSecond: 1_000_000, bufferSize: 50 } });
    const client = await open();
    client.pause();
    const events = fixture.app.get(CacheEvents);
    const live = fixture.app.get(ResponseCacheLiveController);
    const bigKey = 'k'.repeat(2000);
    let maxQueued = 0;
    // ~60 MB of events in bursts, far more than socket buffers hold.
    for (let round = 0; round < 300; round++) {
      for (let i = 0; i < 100; i++) events.emit({ type: 'hit', route: '/r', key: `${bigKey}${round}-${i}` });
      await new Promise((resolve) => setImmediate(resolve));
      maxQueued = Math.max(maxQueued, live.streamStates()[0].queued);
    }
    const state = live.streamStates()[0];
    expect(maxQueued).toBeLessThanOrEqual(50);
    expect(state.waitingForDrain).toBe(true);
    expect(state.dropped).toBeGreaterThan(0);
    expect(state.sent + state.queued + state.dropped).toBe(30_000);
    client.resume();
    fixture.clock.advance(1000); // the report of what was dropped goes out with the next event
    events.emit({ type: 'miss', route: '/r', key: 'after-burst' });
    await client.until((e) => e.some((x) => x.data.key === 'after-burst'), 'event after the burst');
    const dropped = live.streamStates()[0].dropped;
    const received = client.events.filter((e) => e.event !== 'sampled');
    expect(received.length + dropped).toBe(30_001); // every event either arrived or was reported dropped
    expect(client.events.filter((e) => e.event === 'sampled').reduce((sum, e) => sum + Number(e.data.dropped), 0)).toBe(dropped);
  });

  it('refuses more streams than maxClients with 429, and frees the slot when a client leaves', async () => {
    fixture = await startFixture(adapter, { adminToken: TOKEN, eventStream: { maxClients: 1 } });
    const first = await open();
    const second = await open();
    expect(second.response.statusCode).toBe(429);
    first.close();
    const live = fixture.app.get(ResponseCacheLiveController);
    const deadline = Date.now() + 5000;
    while (live.streamStates().length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await open()).response.statusCode).toBe(200);
  });
});
