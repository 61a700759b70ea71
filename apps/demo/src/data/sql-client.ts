import { PGlite } from '@electric-sql/pglite';
import { Pool } from 'pg';

/** The one thing the demo's data layer needs from PostgreSQL: parameterised queries and a script runner. */
export interface SqlClient {
  /** `postgres` (a server, through a `pg` pool) or `pglite` (embedded, in this process). */
  readonly kind: 'postgres' | 'pglite';
  /** One statement with `$1…` parameters; the rows it returns. */
  query<R>(text: string, params?: readonly unknown[]): Promise<R[]>;
  /** Several statements without parameters, in one round trip (the migration). */
  exec(script: string): Promise<void>;
  close(): Promise<void>;
}

/** Connections the demo keeps open to a PostgreSQL server. */
const POOL_SIZE = 10;

class PoolClient implements SqlClient {
  readonly kind = 'postgres';
  constructor(private readonly pool: Pool) {}

  async query<R>(text: string, params?: readonly unknown[]): Promise<R[]> {
    return (await this.pool.query(text, params as unknown[] | undefined)).rows as R[];
  }

  async exec(script: string): Promise<void> {
    await this.pool.query(script);
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

class EmbeddedClient implements SqlClient {
  readonly kind = 'pglite';
  constructor(private readonly db: PGlite) {}

  async query<R>(text: string, params?: readonly unknown[]): Promise<R[]> {
    return (await this.db.query<R>(text, params as unknown[] | undefined)).rows;
  }

  async exec(script: string): Promise<void> {
    await this.db.exec(script);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

/**
 * A pool of connections to the server `databaseUrl` names (`postgres://user@host:port/db`,
 * libpq-style parameters such as `?options=-c search_path=…` included), or, with no URL, an
 * embedded PostgreSQL (PGlite) that lives in memory for the life of the process.
 */
export async function openSqlClient(databaseUrl: string | undefined): Promise<SqlClient> {
  if (databaseUrl === undefined) return new EmbeddedClient(await PGlite.create());
  const pool = new Pool({ connectionString: databaseUrl, max: POOL_SIZE, connectionTimeoutMillis: 5_000 });
  // An idle connection that the server drops is replaced on the next query; the error is not fatal.
  pool.on('error', () => undefined);
  const client = new PoolClient(pool);
  try {
    await client.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot connect to the PostgreSQL server of DATABASE_URL (${redact(databaseUrl)}): ${reason}`, { cause: error });
  }
  return client;
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}
