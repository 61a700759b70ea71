import type { ExecutionContext } from '@nestjs/common';
import { NoIdentityTagError, TagResolutionError, resolveResultTags, resolveTags } from './tags';

const ctx = { context: {} as ExecutionContext, params: { id: '42', slug: 'a-b' }, query: {} };

describe('resolveTags', () => {
  it('expands {param} templates from route params', () => {
    expect(resolveTags(['users', 'user:{id}', 'post:{slug}:{id}'], ctx)).toEqual(['users', 'user:42', 'post:a-b:42']);
  });

  it('calls tag functions, flattens arrays, drops duplicates and empty results', () => {
    expect(resolveTags([() => ['a', 'b'], () => 'a', () => undefined, (c) => `q:${c.params.id}`], ctx)).toEqual(['a', 'b', 'q:42']);
  });

  it('passes the handler result to invalidation functions', () => {
    expect(
      resolveTags([(c: typeof ctx & { result: unknown }) => `user:${(c.result as { id: number }).id}`], { ...ctx, result: { id: 7 } }),
    ).toEqual(['user:7']);
  });

  it('fails loudly on a template naming a missing param or a bad function result', () => {
    expect(() => resolveTags(['user:{userId}'], ctx)).toThrow(TagResolutionError);
    expect(() => resolveTags([() => ''], ctx)).toThrow(/non-empty strings/);
    expect(() => resolveTags([() => 'a\nb'], ctx)).toThrow(TagResolutionError);
  });
});

describe('{user} and result tags', () => {
  const ctx = { context: {} as never, params: { id: '42' }, query: {} };

  it('{user} is the hashed identity given; without one it is a NoIdentityTagError', () => {
    expect(resolveTags(['inbox:{user}', 'user:{id}'], ctx, 'h4sh')).toEqual(['inbox:h4sh', 'user:42']);
    expect(() => resolveTags(['inbox:{user}'], ctx)).toThrow(NoIdentityTagError);
  });

  it('resultTags: strings or lists, duplicates dropped, bad tags refused', () => {
    const ofPosts = (page: { posts: { id: number }[] }) => page.posts.map((p) => `post:${p.id}`);
    expect(resolveResultTags(ofPosts, { posts: [{ id: 1 }, { id: 2 }, { id: 1 }] }, ctx)).toEqual(['post:1', 'post:2']);
    expect(resolveResultTags(() => 'one', {}, ctx)).toEqual(['one']);
    expect(resolveResultTags(() => null, {}, ctx)).toEqual([]);
    expect(() => resolveResultTags(() => [''], {}, ctx)).toThrow(TagResolutionError);
  });
});
