import { uriTag } from '../key/cache-key';
import { edgeKey, edgeKeys, tagHeaderValue } from './edge-keys';

describe('edge keys', () => {
  it('sends declared tags in the safe charset as they are, and hashes the others', () => {
    expect(edgeKey('user:42')).toBe('user:42');
    expect(edgeKey('posts')).toBe('posts');
    const spaced = edgeKey('a tag, with "quotes"');
    expect(spaced).toMatch(/^tag-[A-Za-z0-9_-]{22}$/);
    expect(edgeKey('a tag, with "quotes"')).toBe(spaced); // the same key on the response and in the purge
    expect(edgeKey('x'.repeat(129))).toMatch(/^tag-/);
  });

  it('sends the shared URI tag as uri-<hash>, never the control character, and keeps per-user ones in the process', () => {
    const shared = uriTag('/api/users/1');
    expect(edgeKey(shared)).toMatch(/^uri-[A-Za-z0-9_-]{22}$/);
    expect(edgeKey(uriTag('/api/jobs', { scope: 'user', id: 'alice' }))).toBeUndefined();
    expect(edgeKey(uriTag('/api/jobs', { scope: 'tenant', id: 't1' }))).toBeUndefined();
    expect(edgeKey('\u0001key:abc')).toBeUndefined();
    expect(edgeKeys(['users', 'users', shared]).every((k) => !k.includes('\u0001'))).toBe(true);
    expect(edgeKeys(['users', 'users'])).toEqual(['users']);
  });

  it('refuses a header beyond the edge limits (the response then stays off the edge)', () => {
    const limits = { separator: ' ' as const, maxHeaderBytes: 20, maxKeys: 3 };
    expect(tagHeaderValue(['a', 'b'], limits)).toBe('a b');
    expect(tagHeaderValue(['a', 'b', 'c', 'd'], limits)).toBeUndefined();
    expect(tagHeaderValue(['x'.repeat(21)], limits)).toBeUndefined();
    expect(tagHeaderValue(['a', 'b'], { ...limits, separator: ',' })).toBe('a,b');
  });
});
