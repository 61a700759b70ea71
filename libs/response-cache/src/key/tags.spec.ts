import type { ExecutionContext } from '@nestjs/common';
import { TagResolutionError, resolveTags } from './tags';

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
