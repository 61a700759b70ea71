import { createHash } from 'node:crypto';
import { ADAPTERS } from './support/boot-app';
import { RunningFixture, startFixture } from './support/fixture-api';
import { rawRequest } from './support/http-client';

const TOKEN = 'hardening-admin-token';

describe.each(ADAPTERS)('identity in keys and the bypass switch (%s)', (adapter) => {
  let fixture: RunningFixture;
  afterEach(async () => {
    await fixture?.close();
  });

  const keys = async () => {
    const res = await fetch(`${fixture.url}/admin/cache/keys?pattern=*`, { headers: { authorization: `Bearer ${TOKEN}` } });
    return ((await res.json()) as { keys: string[] }).keys;
  };
  const jobsAs = (user: string) => rawRequest(fixture.url, { path: '/api/jobs', headers: { authorization: `Bearer ${user}` } });

  it('per-user key parts are keyed hashes (HMAC), not a hash anyone can reverse with a list of names (11)', async () => {
    fixture = await startFixture(adapter, { adminToken: TOKEN, identity: { secret: 'a-secret-of-this-deployment' } });
    await jobsAs('alice');
    const first = await keys();
    const aliceKey = first.find((k) => k.includes('/api/jobs'));
    expect(aliceKey).toBeDefined();
    const plain = [
      createHash('sha256').update('alice').digest('base64url').slice(0, 22),
      createHash('sha256').update('alice').digest('hex'),
    ];
    for (const reversible of [...plain, 'alice']) expect(aliceKey).not.toContain(reversible);
    await fixture.close();
    // The same secret gives the same key (instances share entries); another secret another key.
    fixture = await startFixture(adapter, { adminToken: TOKEN, identity: { secret: 'a-secret-of-this-deployment' } });
    await jobsAs('alice');
    const part = (key: string | undefined) => key?.slice(key.indexOf('|u:'));
    expect(part((await keys()).find((k) => k.includes('/api/jobs')))).toBe(part(aliceKey));
    await fixture.close();
    fixture = await startFixture(adapter, { adminToken: TOKEN, identity: { secret: 'another-secret-entirely' } });
    await jobsAs('alice');
    expect(part((await keys()).find((k) => k.includes('/api/jobs')))).not.toBe(part(aliceKey));
  });

  it.each(['true', 'TRUE', 'True', '1', ''])('?nocache=%s bypasses the cache (12)', async (value) => {
    fixture = await startFixture(adapter);
    await fetch(`${fixture.url}/api/users`).then((r) => r.arrayBuffer());
    const res = await fetch(`${fixture.url}/api/users?nocache=${value}`);
    await res.arrayBuffer();
    expect(res.headers.get('x-cache')).toBe('BYPASS');
  });
});
