import { BadRequestException } from '@nestjs/common';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The request body as an object, or a 400 that says it must be one. */
export function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestException('the body must be a JSON object');
  return body as Record<string, unknown>;
}

/** A trimmed, non-empty string field of at most `max` characters (undefined when optional and absent). */
export function text(body: Record<string, unknown>, field: string, max: number, required: boolean): string | undefined {
  const value = body[field];
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'string' || value.trim() === '' || value.length > max) {
    throw new BadRequestException(`"${field}" must be a non-empty string of at most ${max} characters`);
  }
  // PostgreSQL text cannot hold NUL (SQLSTATE 22021): said here, naming the field.
  if (value.includes('\u0000')) throw new BadRequestException(`"${field}" must not contain the NUL character (\\u0000)`);
  return value.trim();
}

/** An email field (see `text`) that looks like an address. */
export function email(body: Record<string, unknown>, required: boolean): string | undefined {
  const value = text(body, 'email', 320, required);
  if (value !== undefined && !EMAIL.test(value)) throw new BadRequestException('"email" must be an email address');
  return value;
}

/** A positive whole number field (a row id), at most the largest PostgreSQL integer. */
export function rowId(body: Record<string, unknown>, field: string): number {
  const value = body[field];
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 2_147_483_647) {
    throw new BadRequestException(`"${field}" must be a positive whole number`);
  }
  return value as number;
}
