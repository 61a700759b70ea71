import { ResponseCacheConfigError, ResponseCacheError } from '../response-cache.errors';
import type { CacheRequestContext, ResultTags, TagSpec } from '../response-cache.options';
import { CONTROL } from './cache-key';

const PLACEHOLDER = /\{([^{}]+)\}/g;

/** A tag template or function that could not give a usable tag for this request. */
export class TagResolutionError extends ResponseCacheError {}

/** A `{user}` template on a request without a verified user identity. */
export class NoIdentityTagError extends TagResolutionError {}

/** The placeholder of the caller's verified user identity (hashed) in tag templates. */
export const USER_PLACEHOLDER = 'user';

function expand(template: string, params: Readonly<Record<string, string>>, user: string | undefined): string {
  if (!template.includes('{')) return template;
  return template.replace(PLACEHOLDER, (_match, name: string) => {
    if (name === USER_PLACEHOLDER) {
      if (user === undefined) throw new NoIdentityTagError(`tag "${template}" names {user}, and the request has no verified user identity`);
      return user;
    }
    const value = params[name];
    if (value === undefined || value === '') {
      throw new TagResolutionError(`tag "${template}" names route param "${name}", which this route does not have`);
    }
    return value;
  });
}

function check(tag: unknown, spec: string): string {
  if (typeof tag !== 'string' || tag === '' || CONTROL.test(tag)) {
    throw new TagResolutionError(
      `tag function ${spec} returned ${JSON.stringify(tag)}; tags are non-empty strings without control characters`,
    );
  }
  return tag;
}

/**
 * Expands `{param}` and `{user}` templates (`user`: the caller's hashed identity, if any) and calls
 * tag functions; duplicates are dropped, order kept.
 */
export function resolveTags<C extends CacheRequestContext>(specs: readonly TagSpec<C>[] | undefined, ctx: C, user?: string): string[] {
  if (specs === undefined || specs.length === 0) return [];
  const tags = new Set<string>();
  for (const spec of specs) {
    if (typeof spec === 'string') {
      tags.add(check(expand(spec, ctx.params, user), spec));
      continue;
    }
    const produced = spec(ctx);
    if (produced === undefined || produced === null) continue;
    const name = spec.name || 'anonymous';
    for (const tag of typeof produced === 'string' ? [produced] : produced) tags.add(check(tag, name));
  }
  return [...tags];
}

/** A decorator's tags: non-empty strings without control characters, or functions. */
export function checkTagSpecs(decorator: string, tags: readonly unknown[], describe: (value: unknown) => string): void {
  for (const tag of tags) {
    if (typeof tag === 'function' || (typeof tag === 'string' && tag !== '' && !CONTROL.test(tag))) continue;
    throw new ResponseCacheConfigError(
      decorator,
      `${describe(tag)} is not a tag`,
      "Use non-empty strings such as 'users' or 'user:{id}', or functions of the request.",
    );
  }
}

/** The tags a route's `resultTags` gives for a handler's result; duplicates dropped. */
export function resolveResultTags(fn: ResultTags, result: unknown, ctx: CacheRequestContext): string[] {
  const produced = fn(result as never, ctx);
  if (produced === undefined || produced === null) return [];
  const name = `resultTags ${fn.name || '(anonymous)'}`;
  return [...new Set((typeof produced === 'string' ? [produced] : produced).map((tag) => check(tag, name)))];
}
