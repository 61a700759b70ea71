import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunningDemo, startDemo } from './support/demo-app';

const root = join(__dirname, '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

interface Panel {
  title: string;
  datasource: { uid: string };
  targets: { expr: string }[];
}

/** The Grafana dashboard and the compose wiring that loads it (Docker is not run here: the files are checked). */
describe('deploy/: the Grafana dashboard and its Prometheus', () => {
  let demo: RunningDemo;
  const dashboard = JSON.parse(read('deploy/grafana/dashboards/response-cache.json')) as { uid: string; panels: Panel[] };

  beforeAll(async () => {
    demo = await startDemo('express');
  });
  afterAll(async () => {
    await demo.close();
  });

  it('queries only metrics that the demo exposes at /metrics', async () => {
    const res = await fetch(`${demo.url}/metrics`);
    const exposed = new Set([...(await res.text()).matchAll(/^# TYPE (\w+) /gm)].map((m) => m[1]));
    const queried = new Set(
      dashboard.panels.flatMap((p) => p.targets.flatMap((t) => [...t.expr.matchAll(/\b((?:cache|demo)_\w+)/g)].map((m) => m[1]))),
    );
    const base = (name: string) => name.replace(/_(bucket|count|sum)$/, '');
    expect([...queried].filter((name) => !exposed.has(base(name)))).toEqual([]);
    // Every contract metric is on the dashboard.
    for (const name of [
      'cache_hits_total',
      'cache_misses_total',
      'cache_bypass_total',
      'cache_stale_total',
      'cache_coalesced_total',
      'cache_invalidations_total',
      'cache_store_errors_total',
      'cache_request_duration_seconds',
      'cache_entries',
      'cache_size_bytes',
    ]) {
      expect([...queried].map(base)).toContain(name);
    }
  });

  it('uses the provisioned data source in every panel', () => {
    const uid = /uid:\s*(\S+)/.exec(read('deploy/grafana/provisioning/datasources/prometheus.yml'))?.[1];
    expect(uid).toBeDefined();
    expect(dashboard.panels.filter((p) => p.datasource.uid !== uid).map((p) => p.title)).toEqual([]);
  });

  it('is mounted by docker-compose.yml where the provisioning looks, and Prometheus scrapes the demo service', () => {
    const compose = read('docker-compose.yml');
    for (const [source] of compose.matchAll(/\.\/deploy\/[\w/.-]+/g)) expect(existsSync(join(root, source))).toBe(true);
    const providerPath = /path:\s*(\S+)/.exec(read('deploy/grafana/provisioning/dashboards/response-cache.yml'))?.[1];
    expect(compose).toContain(`./deploy/grafana/dashboards:${providerPath}`);
    expect(read('deploy/prometheus/prometheus.yml')).toContain("targets: ['demo:3000']");
    expect(compose).toMatch(/^ {2}demo:\n/m);
  });

  it('gives the demo services the postgres service as their database, with its credentials', () => {
    const compose = read('docker-compose.yml');
    expect(compose).toMatch(/^ {2}postgres:\n/m);
    const urls = [...compose.matchAll(/DATABASE_URL: (\S+)/g)].map((m) => new URL(m[1]));
    expect(urls).toHaveLength(3); // demo, demo-cluster and demo-sentinel
    for (const url of urls) {
      expect([url.protocol, url.hostname, url.port]).toEqual(['postgres:', 'postgres', '5432']);
      expect(compose).toContain(`POSTGRES_USER: ${url.username}`);
      expect(compose).toContain(`POSTGRES_PASSWORD: ${url.password}`);
      expect(compose).toContain(`POSTGRES_DB: ${url.pathname.slice(1)}`);
    }
    expect(compose).toMatch(/postgres:\n\s+condition: service_healthy/);
  });
});
