import { createDatabase } from './postgres';

/**
 * Makes the run's PostgreSQL database (see postgres.ts) before any test file starts; the workers
 * inherit TEST_DATABASE_URL. A server that cannot be reached fails only the tests that need it,
 * with the reason in TEST_DATABASE_ERROR.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.TEST_DATABASE_URL) return; // given from outside: used as it is, never dropped
  try {
    process.env.TEST_DATABASE_URL = await createDatabase('rc_test');
    process.env.TEST_DATABASE_OWNED = 'true';
  } catch (error) {
    process.env.TEST_DATABASE_ERROR = error instanceof Error ? error.message : String(error);
  }
}
