import { BadRequestException, ConflictException, HttpException, ServiceUnavailableException } from '@nestjs/common';

/**
 * What a failed statement means to the client. Classes 22 (data exception: a value the column
 * cannot hold) and 23 (integrity constraint violation) are the client's error: 409 or 400 with a
 * message, and no ERROR log line. A serialization failure is a conflict to retry (409). Anything
 * else is the database's: 503.
 */
export function httpErrorOf(error: unknown): HttpException {
  if (error instanceof HttpException) return error;
  const { code, constraint } = (typeof error === 'object' && error !== null ? error : {}) as { code?: string; constraint?: string };
  switch (code) {
    case '23505': // unique_violation
      return new ConflictException(constraint === 'users_email_key' ? 'a user with this email already exists' : 'the row already exists');
    case '23503': // foreign_key_violation
      return new BadRequestException(
        constraint === 'posts_author_id_fkey' ? '"authorId" is not a user' : 'the row refers to a row that does not exist',
      );
    case '22021': // character_not_in_repertoire: a NUL character, or bytes that are not UTF-8
      return new BadRequestException('text must not contain the NUL character (\\u0000) and must be valid UTF-8');
    case '22001': // string_data_right_truncation
      return new BadRequestException('a value is longer than its field allows');
    case '22003': // numeric_value_out_of_range
      return new BadRequestException('a number is out of range');
    case '40001': // serialization_failure
    case '40P01': // deadlock_detected
      return new ConflictException('a concurrent change got in the way; try again');
  }
  if (code?.startsWith('22')) return new BadRequestException(`the body holds a value the database cannot store (SQLSTATE ${code})`);
  if (code?.startsWith('23')) return new BadRequestException(`the body breaks a rule of the data (SQLSTATE ${code})`);
  return new ServiceUnavailableException('the demo database is unavailable');
}
