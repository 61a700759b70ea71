import { Logger } from '@nestjs/common';
import { ResponseCacheConfigError } from '../response-cache.errors';
import type { ResponseCacheModuleOptions } from '../response-cache.options';

/**
 * The flat names of 0.1 that the `identity`, `resilience` and `stampede` groups replaced: each
 * still works until 0.3 (one deprecation line per name and process), as its group's field.
 */
const MOVED = {
  userIdentity: ['identity', 'user'],
  tenantIdentity: ['identity', 'tenant'],
  identitySecret: ['identity', 'secret'],
  opTimeoutMs: ['resilience', 'opTimeoutMs'],
  stampedeLock: ['stampede', 'lock'],
  stampedeWaitMs: ['stampede', 'waitMs'],
  circuitBreaker: ['resilience', undefined],
} as const;

export type DeprecatedOption = keyof typeof MOVED;
/** The options that are not deprecated spellings of a group's fields. */
export type CurrentModuleOptions = Omit<ResponseCacheModuleOptions, DeprecatedOption>;
export const DEPRECATED_OPTIONS = Object.keys(MOVED) as DeprecatedOption[];

const warned = new Set<string>();

/** `options` with every deprecated flat name moved into its group; both spellings at once is an error. */
export function moveDeprecatedOptions(options: ResponseCacheModuleOptions): CurrentModuleOptions {
  const moved: Record<string, unknown> = { ...options };
  for (const name of DEPRECATED_OPTIONS) {
    if (!(name in options)) continue;
    const [group, field] = MOVED[name];
    const value = options[name];
    if (field === undefined && (typeof value !== 'object' || value === null)) {
      throw new ResponseCacheConfigError(
        name,
        'expected { failureThreshold?, cooldownMs? }',
        'Write resilience: { failureThreshold, cooldownMs } instead.',
      );
    }
    // circuitBreaker's fields (failureThreshold, cooldownMs) are resilience's fields too.
    const fields: Record<string, unknown> = field === undefined ? { ...(value as object) } : { [field]: value };
    const current = (moved[group] ?? {}) as Record<string, unknown>;
    const clash = Object.keys(fields).find((key) => key in current);
    if (clash !== undefined) {
      throw new ResponseCacheConfigError(
        name,
        `is the deprecated spelling of ${group}.${clash}, which is set too`,
        `Keep ${group}.${clash} only.`,
      );
    }
    moved[group] = { ...current, ...fields };
    delete moved[name];
    if (!warned.has(name)) {
      warned.add(name);
      const spelling = field === undefined ? `${group}: { ${Object.keys(fields).join(', ')} }` : `${group}: { ${field} }`;
      new Logger('ResponseCache').warn(`option ${name} is deprecated and goes in 0.3: write ${spelling}`);
    }
  }
  return moved as CurrentModuleOptions;
}
