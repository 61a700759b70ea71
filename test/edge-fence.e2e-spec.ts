import { bootApp } from './support/boot-app';
import { Controller, Get, INestApplication, Module, Put } from '@nestjs/common';
import { Cacheable, EdgeAdapter, InvalidateTags, ResponseCacheModule } from 'nestjs-response-cache';

/**
 * The edge keeps only what the app's store kept: a miss whose data a write overtook (the app's
 * fill fence refuses to store it) is answered with `no-store` for the edge, never with its tags,
 * so a purge that already went by cannot leave it at the edge.
 */

let value = 'old';
let release: () => void = () => undefined;
let gate: Promise<void> = Promise.resolve();
let read: () => void = () => undefined;

@Controller('item')
class ItemController {
  @Get()
  @Cacheable({ tags: ['item'] })
  async get() {
    const seen = value; // read before the write…
    read();
    await gate; // …answered after it
    return { value: seen };
  }

  @Put()
  @InvalidateTags('item')
  put() {
    value = 'new';
    return { value };
  }
}

const purged: string[][] = [];
const edge: EdgeAdapter = {
  name: 'test',
  tagHeader: 'xkey',
  ttlHeader: 'CDN-Cache-Control',
  limits: { separator: ' ', maxHeaderBytes: 4096, maxKeys: 64 },
  maxKeysPerPurge: 50,
  purge: async (keys) => void purged.push([...keys]),
};

@Module({ imports: [ResponseCacheModule.forRoot({ edge: { adapter: edge, repurgeAfterMs: 0 } })], controllers: [ItemController] })
class EdgeFenceModule {}

describe('a fill that a write overtook', () => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    ({ app, url } = await bootApp('express', EdgeFenceModule));
  });
  afterAll(() => app.close());

  it('is not cacheable at the edge, and the next response (stored, new data) is', async () => {
    gate = new Promise((resolve) => (release = resolve));
    const wasRead = new Promise<void>((resolve) => (read = resolve));
    const slow = fetch(`${url}/item`);
    await wasRead;
    const write = await fetch(`${url}/item`, { method: 'PUT' });
    expect(write.status).toBe(200);
    expect(purged.flat()).toContain('item');
    release();
    const overtaken = await slow;
    expect(await overtaken.json()).toEqual({ value: 'old' });
    expect(overtaken.headers.get('xkey')).toBeNull();
    expect(overtaken.headers.get('cdn-cache-control')).toBe('no-store, max-age=0');

    read = () => undefined;
    const fresh = await fetch(`${url}/item`);
    expect(await fresh.json()).toEqual({ value: 'new' });
    expect(fresh.headers.get('x-cache')).toBe('MISS');
    expect(fresh.headers.get('xkey')).toMatch(/^item uri-/);
    const hit = await fetch(`${url}/item`);
    await hit.text();
    expect(hit.headers.get('x-cache')).toBe('HIT');
    expect(hit.headers.get('xkey')).toMatch(/^item uri-/);
    expect(hit.headers.get('cdn-cache-control')).toMatch(/^max-age=\d+$/);
  });
});
