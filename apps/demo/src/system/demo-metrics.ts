import { Controller, DynamicModule, Get, Inject, Module, Provider, Res } from '@nestjs/common';
import { PrometheusController, PrometheusModule, makeCounterProvider } from '@willsoto/nestjs-prometheus';
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
 * provider of `demo_db_queries_total` (inject it with `@InjectMetric`), and `GET /metrics` through
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
        help: 'Calls into the demo data layer',
        labelNames: ['operation'],
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
