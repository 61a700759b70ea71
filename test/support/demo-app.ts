import { INestApplication } from '@nestjs/common';
import { ResponseCacheModuleOptions } from 'nestjs-response-cache';
import { ManualClock } from 'nestjs-response-cache/testing';
import { createDemoApp } from '../../apps/demo/src/create-demo-app';
import { DemoDatabase, SQL_CLIENT } from '../../apps/demo/src/data/demo-database';
import type { SqlClient } from '../../apps/demo/src/data/sql-client';
import { freshDatabaseUrl } from './postgres';
import { getToken } from '@willsoto/nestjs-prometheus';
import type { Counter } from 'prom-client';

export { ADAPTERS } from './boot-app';
export { rawRequest, xCacheOf } from './http-client';
export type { RawResponse } from './http-client';
export type { Adapter } from './boot-app';
import type { Adapter } from './boot-app';

export interface RunningDemo {
  app: INestApplication;
  url: string;
  clock: ManualClock;
  db: DemoDatabase;
  /** The demo's PostgreSQL (a schema of the run's test database); another app given it shares the data. */
  databaseUrl: string;
  /** A statement on the demo's database behind the cache's back (not counted in demo_db_queries_total). */
  sql<R = unknown>(text: string, params?: unknown[]): Promise<R[]>;
  /** Status codes of every response the server wrote, in order. */
  statuses: number[];
  close(): Promise<void>;
}

/**
 * Boots the demo on a free port with a fake clock, the fast lane on (unless TEST_FAST_LANE=false),
 * and a database of its own on the test PostgreSQL, migrated and seeded (unless `databaseUrl`
 * names one to share).
 */
export async function startDemo(
  adapter: Adapter,
  env: Record<string, string> = {},
  cacheOptions?: Partial<ResponseCacheModuleOptions>,
  clock = new ManualClock(),
  databaseUrl?: string,
): Promise<RunningDemo> {
  const database = databaseUrl ?? (await freshDatabaseUrl());
  const app = await createDemoApp({
    adapter,
    clock,
    cacheOptions,
    logger: false,
    processMetrics: false,
    // `npm run test:lane-off` runs the demo suites again with the fast lane off.
    env: { DATABASE_URL: database, CACHE_WARM_PATHS: '', CACHE_FAST_LANE: process.env.TEST_FAST_LANE ?? 'true', ...env },
  });
  await app.listen(0, '127.0.0.1');
  const statuses: number[] = [];
  const server = app.getHttpServer() as import('node:http').Server;
  server.on('request', (_req, res) => res.on('finish', () => statuses.push(res.statusCode)));
  const address = server.address() as import('node:net').AddressInfo;
  return {
    app,
    url: `http://127.0.0.1:${address.port}`,
    clock,
    db: app.get(DemoDatabase),
    databaseUrl: database,
    sql: (text, params) => app.get<SqlClient>(SQL_CLIENT).query(text, params),
    statuses,
    close: () => app.close(),
  };
}

/** Count of demo data-layer calls so far (from the app's own Prometheus registry). */
export async function dbQueries(demo: RunningDemo): Promise<number> {
  const metric = await demo.app.get<Counter>(getToken('demo_db_queries_total')).get();
  return metric.values.reduce((sum, v) => sum + v.value, 0);
}
