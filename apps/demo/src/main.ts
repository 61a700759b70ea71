import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { ResponseCacheConfigError } from 'nestjs-response-cache';
import { createDemoApp } from './create-demo-app';
import { loadDemoConfig } from './demo.config';

/** The demo variable behind each cache option it sets, for startup errors that name an option. */
const VARIABLE_OF_OPTION: Record<string, string> = {
  ttl: 'CACHE_TTL_SECONDS',
  maxMemoryBytes: 'CACHE_MAX_MEMORY_MB',
  'resilience.opTimeoutMs': 'CACHE_OP_TIMEOUT_MS',
  'compression.thresholdBytes': 'CACHE_COMPRESSION_THRESHOLD_BYTES',
  staleWhileRevalidate: 'CACHE_STALE_WHILE_REVALIDATE_SECONDS',
  staleIfError: 'CACHE_STALE_IF_ERROR_SECONDS',
  url: 'REDIS_URL',
  'warm.paths': 'CACHE_WARM_PATHS',
  'warm.intervalSeconds': 'CACHE_WARM_INTERVAL_SECONDS',
  'identity.secret': 'CACHE_IDENTITY_SECRET',
  enabled: 'CACHE_ENABLED',
};

function explain(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (!(error instanceof ResponseCacheConfigError)) return message;
  const option = /invalid option "([^"]+)"/.exec(message)?.[1];
  const variable = option === undefined ? undefined : VARIABLE_OF_OPTION[option];
  return variable === undefined ? message : `${message} (the demo sets this option from ${variable})`;
}

async function main(): Promise<void> {
  const env = { ...process.env };
  // `npm start` with no token: make one for this run, print it once, and never log it again.
  const generatedToken = env.CACHE_ADMIN_TOKEN?.trim() ? undefined : randomBytes(18).toString('base64url');
  if (generatedToken !== undefined) env.CACHE_ADMIN_TOKEN = generatedToken;
  // Warm under the host the printed URL names, unless told otherwise.
  const port = loadDemoConfig(env).port;
  if (!env.CACHE_WARM_HOST?.trim() && port !== 0) env.CACHE_WARM_HOST = `localhost:${port}`;
  const config = loadDemoConfig(env);
  const app = await createDemoApp({ env });
  await app.listen(config.port, '0.0.0.0');
  // One host for the printed URL, the default warming host (localhost:<port>) and the dashboard.
  const url = `http://localhost:${config.port}`;
  const database = config.databaseUrl === undefined ? 'embedded PostgreSQL (PGlite, in memory)' : 'PostgreSQL (DATABASE_URL)';
  Logger.log(`demo listening on ${url} (${config.httpAdapter}, store: ${config.cacheStore}, database: ${database})`, 'Demo');
  const lines = [`Dashboard: ${url}/admin/cache/dashboard`];
  if (generatedToken !== undefined) {
    lines.push(`Admin token (generated for this run; set CACHE_ADMIN_TOKEN to choose one): ${generatedToken}`);
  } else {
    lines.push('Admin token: the value of CACHE_ADMIN_TOKEN');
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((error: unknown) => {
  console.error(explain(error));
  process.exit(1);
});
