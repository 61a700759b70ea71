import { Client } from 'pg';

/**
 * The tests' PostgreSQL: a database made for the run on the server of TEST_POSTGRES_URL (default:
 * the machine's server on 127.0.0.1:5432 as postgres/postgres, the password scripts/test-deps.sh
 * gives a fresh install; a server that trusts local connections ignores it), dropped when the run
 * ends, and one schema in it per demo app (so that every app starts from the seed rows, and apps
 * that share a schema share data).
 */
export const ADMIN_URL = process.env.TEST_POSTGRES_URL?.trim() || 'postgres://postgres:postgres@127.0.0.1:5432/postgres';

/** The URL of `database` on the server of `serverUrl`. */
export function databaseUrlOf(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Creates a database named `prefix_<pid>_<random>` and returns its URL. */
export async function createDatabase(prefix: string, serverUrl = ADMIN_URL): Promise<string> {
  const name = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new Client({ connectionString: serverUrl, connectionTimeoutMillis: 5_000 });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `the tests need a PostgreSQL server at ${serverUrl} (${error instanceof Error ? error.message : String(error)}). ` +
        "Start the machine's server (pg_ctlcluster <version> main start) or set TEST_POSTGRES_URL to one where the user may create databases.",
      { cause: error },
    );
  }
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return databaseUrlOf(serverUrl, name);
}

/** Drops the database that `databaseUrl` names, closing whatever is still connected to it. */
export async function dropDatabase(databaseUrl: string, serverUrl = ADMIN_URL): Promise<void> {
  const name = new URL(databaseUrl).pathname.slice(1);
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

let schemas = 0;

/** A new, empty schema in the run's test database; the demo's migration fills it. Its URL selects it. */
export async function freshDatabaseUrl(): Promise<string> {
  const base = process.env.TEST_DATABASE_URL;
  if (base === undefined || base === '') {
    throw new Error(
      process.env.TEST_DATABASE_ERROR ||
        'TEST_DATABASE_URL is not set: run the tests with jest (test/support/jest-global-setup.js makes it)',
    );
  }
  const schema = `demo_${process.pid}_${++schemas}_${Math.random().toString(36).slice(2, 8)}`;
  const client = new Client({ connectionString: base });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await client.end();
  }
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}
