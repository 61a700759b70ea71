import { ConfigurableModuleBuilder } from '@nestjs/common';
import { ResponseCacheAdminController } from './admin/response-cache-admin.controller';
import { ResponseCacheLiveController } from './admin/response-cache-live.controller';
import { ResponseCacheConfigError } from './response-cache.errors';
import { ResponseCacheModuleExtras, ResponseCacheModuleOptions } from './response-cache.options';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: RESPONSE_CACHE_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ResponseCacheModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras<ResponseCacheModuleExtras>({ isGlobal: false, adminRoutes: false, metrics: undefined }, (definition, extras) => {
    const metrics = extras.metrics;
    if (metrics !== undefined && (typeof metrics !== 'object' || metrics === null || !Array.isArray(metrics.providers))) {
      throw new ResponseCacheConfigError(
        'metrics',
        `expected the result of prometheusMetrics(), got ${JSON.stringify(metrics)}`,
        'import { prometheusMetrics } from "nestjs-response-cache/prometheus" and pass metrics: prometheusMetrics().',
      );
    }
    return {
      ...definition,
      global: extras.isGlobal,
      controllers: extras.adminRoutes === true ? [ResponseCacheAdminController, ResponseCacheLiveController] : [],
      providers: [...(definition.providers ?? []), ...(metrics?.providers ?? [])],
    };
  })
  .build();
