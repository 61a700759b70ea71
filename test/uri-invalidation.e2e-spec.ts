import { ADAPTERS, bootApp } from './support/boot-app';
import { Controller, Get, INestApplication, Module, Put } from '@nestjs/common';
import { Cacheable, InvalidateTags, ResponseCacheModule } from 'nestjs-response-cache';

@Controller('me')
class MeController {
  private reads = 0;

  @Get('settings')
  @Cacheable({ scope: 'user', ttl: 60 })
  settings() {
    return { reads: ++this.reads };
  }

  @Put('settings')
  @InvalidateTags('unrelated')
  update() {
    return { updated: true };
  }
}

@Module({
  imports: [
    ResponseCacheModule.forRoot({
      identity: { user: (context) => context.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers['x-user'] },
    }),
  ],
  controllers: [MeController],
})
class MeModule {}

describe.each(ADAPTERS)('a write invalidates the cached GET of its URI for the writer only, on per-user routes (%s)', (adapter) => {
  let app: INestApplication;
  let url: string;
  beforeAll(async () => {
    ({ app, url } = await bootApp(adapter, MeModule));
  });
  afterAll(async () => {
    await app.close();
  });

  const as = async (user: string, method = 'GET') => {
    const res = await fetch(`${url}/me/settings`, { method, headers: { 'x-user': user } });
    await res.arrayBuffer();
    return method === 'GET' ? res.headers.get('x-cache') : String(res.status);
  };

  it("alice's PUT makes her next GET a miss and leaves bob's entry cached", async () => {
    expect([await as('alice'), await as('alice'), await as('bob'), await as('bob')]).toEqual(['MISS', 'HIT', 'MISS', 'HIT']);
    expect(await as('alice', 'PUT')).toBe('200');
    expect(await as('alice')).toBe('MISS');
    expect(await as('bob')).toBe('HIT');
  });
});
