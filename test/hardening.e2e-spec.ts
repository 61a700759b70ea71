import { createHash } from 'node:crypto';
import { ADAPTERS, RunningDemo, rawRequest, startDemo } from './support/demo-app';

const TOKEN = 'hardening-admin-token';

describe.each(ADAPTERS)('identity in keys and the bypass switch (%s)', (adapter) => {
  let demo: RunningDemo;
  afterEach(async () => {
    await demo?.close();
  });

  const keys = async () => {
    const res = await fetch(`${demo.url}/admin/cache/keys?pattern=*`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return ((await res.json()) as { keys: string[] }).keys;
  };
  const jobsAs = (user: string) => rawRequest(demo.url, { path: '/api/jobs', headers: { authorization: `Bearer ${user}` } });

  it('per-user key parts are keyed hashes (HMAC), not a hash anyone can reverse with a list of names (11)', async () => {
    demo = await startDemo(adapter, { CACHE_ADMIN_TOKEN: TOKEN, CACHE_IDENTITY_SECRET: 'a-secret-of-this-deployment' });
    await jobsAs('alice');
    const first = await keys();
    const aliceKey = first.find((k) => k.includes('/api/jobs'));
    expect(aliceKey).toBeDefined();
    const plain = [
      createHash('sha256').update('alice').digest('base64url').slice(0, 22),
      createHash('sha256').update('alice').digest('hex'),
    ];
    for (const reversible of [...plain, 'alice']) expect(aliceKey).not.toContain(reversible);
    await demo.close();
    // The same secret gives the same key (instances share entries); another secret another key.
    demo = await startDemo(adapter, { CACHE_ADMIN_TOKEN: TOKEN, CACHE_IDENTITY_SECRET: 'a-secret-of-this-deployment' });
    await jobsAs('alice');
    const part = (key: string | undefined) => key?.slice(key.indexOf('|u:'));
    expect(part((await keys()).find((k) => k.includes('/api/jobs')))).toBe(part(aliceKey));
    await demo.close();
    demo = await startDemo(adapter, { CACHE_ADMIN_TOKEN: TOKEN, CACHE_IDENTITY_SECRET: 'another-secret-entirely' });
    await jobsAs('alice');
    expect(part((await keys()).find((k) => k.includes('/api/jobs')))).not.toBe(part(aliceKey));
  });

  it.each(['true', 'TRUE', 'True', '1', ''])('?nocache=%s bypasses the cache (12)', async (value) => {
    demo = await startDemo(adapter);
    await fetch(`${demo.url}/api/users`).then((r) => r.arrayBuffer());
    const res = await fetch(`${demo.url}/api/users?nocache=${value}`);
    await res.arrayBuffer();
    expect(res.headers.get('x-cache')).toBe('BYPASS');
  });
});
