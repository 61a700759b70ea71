import { Controller, DynamicModule, Get, Inject, Module, Provider, Res } from '@nestjs/common';
import { PrometheusController, PrometheusModule, makeCounterProvider, makeHistogramProvider } from '@willsoto/nestjs-prometheus';
import { Registry, collectDefaultMetrics } from 'prom-client';

/** The app's own Prometheus registry (one per app, so that tests can boot several apps in one process). */
export const DEMO_REGISTRY = Symbol('DEMO_REGISTRY');

/** `GET /metrics` (path set by `PrometheusModule.register`): the app's registry, in Prometheus text format. */
@Controller()
export class DemoMetricsController extends PrometheusController {
  constructor(@Inject(DEMO_REGISTRY) private readonly registry: Registry) {
    super();
  }

  @Get()
  override async index(@Res({ passthrough: true }) response: { header(name: string, value: string): unknown }): Promise<string> {
    response.header('Content-Type', this.registry.contentType);
    return this.registry.metrics();
  }
}

/**
 * The demo's metrics, global within the app: its registry (with the process metrics), the
 * providers of `demo_db_queries_total` and `demo_db_query_duration_seconds` (inject them with `@InjectMetric`), and `GET /metrics` through
 * `PrometheusModule`. The cache's metrics join the same registry through the `metrics: { registry }`
 * extra of `ResponseCacheModule`.
 */
@Module({})
export class DemoMetricsModule {
  static forRoot(registry: Registry, processMetrics: boolean): DynamicModule {
    if (processMetrics) collectDefaultMetrics({ register: registry });
    const providers: Provider[] = [
      { provide: DEMO_REGISTRY, useValue: registry },
      makeCounterProvider({
        name: 'demo_db_queries_total',
        help: 'SQL statements the demo data layer sent to PostgreSQL (or failed on purpose), by operation',
        labelNames: ['operation'],
        registers: [registry],
      }),
      makeHistogramProvider({
        name: 'demo_db_query_duration_seconds',
        help: 'Time PostgreSQL took to answer a demo data-layer statement, by operation',
        labelNames: ['operation'],
        buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
        registers: [registry],
      }),
    ];
    return {
      module: DemoMetricsModule,
      global: true,
      imports: [PrometheusModule.register({ controller: DemoMetricsController, defaultMetrics: { enabled: false } })],
      providers,
      exports: providers,
    };
  }
}
