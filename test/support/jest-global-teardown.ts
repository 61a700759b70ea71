import { dropDatabase } from './postgres';

/** Drops the database that jest-global-setup.ts made. */
export default async function globalTeardown(): Promise<void> {
  const url = process.env.TEST_DATABASE_URL;
  if (url !== undefined && process.env.TEST_DATABASE_OWNED === 'true') await dropDatabase(url);
}
