import { ResponseCacheConfigError, ResponseCacheError } from '../response-cache.errors';
import type { CacheRequestContext, TagSpec } from '../response-cache.options';
import { CONTROL } from './cache-key';

const PLACEHOLDER = /\{([^{}]+)\}/g;

/** A tag template or function that could not give a usable tag for this request. */
export class TagResolutionError extends ResponseCacheError {}

function expand(template: string, params: Readonly<Record<string, string>>): string {
  if (!template.includes('{')) return template;
  return template.replace(PLACEHOLDER, (_match, name: string) => {
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

/** Expands `{param}` templates and calls tag functions; duplicates are dropped, order kept. */
export function resolveTags<C extends CacheRequestContext>(specs: readonly TagSpec<C>[] | undefined, ctx: C): string[] {
  if (specs === undefined || specs.length === 0) return [];
  const tags = new Set<string>();
  for (const spec of specs) {
    if (typeof spec === 'string') {
      tags.add(check(expand(spec, ctx.params), spec));
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
