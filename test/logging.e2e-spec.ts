import { startFixture } from './support/fixture-api';

describe('logOperations: true', () => {
  it('writes one JSON line per hit, miss, bypass and invalidation, with no body or credential', async () => {
    const fixture = await startFixture('fastify', { logOperations: true });
    const lines: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const auth = { authorization: 'Bearer alice-secret-token' };
      await fetch(`${fixture.url}/api/jobs`, { headers: auth });
      await fetch(`${fixture.url}/api/jobs`, { headers: auth });
      await fetch(`${fixture.url}/api/users?nocache=true`);
      await fetch(`${fixture.url}/api/users/1`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"name":"Ada"}' });
    } finally {
      spy.mockRestore();
      await fixture.close();
    }
    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.map((e) => e.type)).toEqual(['miss', 'hit', 'bypass', 'invalidation']);
    expect(events[0]).toMatchObject({ level: 'info', route: '/api/jobs' });
    expect(events[2]).toMatchObject({ reason: 'nocache-param' });
    expect(events[3]).toMatchObject({ reason: 'tag', tags: ['users', 'user:1'] });
    const all = lines.join('');
    expect(all).not.toContain('alice');
    expect(all).not.toContain('backup'); // a job name from the body
    expect(all).not.toContain('Ada');
  });
});
