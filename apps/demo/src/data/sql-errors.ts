import { BadRequestException, ConflictException, HttpException, ServiceUnavailableException } from '@nestjs/common';

/** What a failed statement means to the client: a constraint it broke (409/400), or a database it cannot reach (503). */
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
    case '23502': // not_null_violation
    case '23514': // check_violation
    case '22001': // string_data_right_truncation
    case '22003': // numeric_value_out_of_range
    case '22P02': // invalid_text_representation
      return new BadRequestException('the body breaks a rule of the data');
    case '40001': // serialization_failure
    case '40P01': // deadlock_detected
      return new ConflictException('a concurrent change got in the way; try again');
    default:
      return new ServiceUnavailableException('the demo database is unavailable');
  }
}
