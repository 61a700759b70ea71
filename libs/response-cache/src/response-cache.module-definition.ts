import { ConfigurableModuleBuilder } from '@nestjs/common';
import { ResponseCacheAdminController } from './admin/response-cache-admin.controller';
import { ResponseCacheLiveController } from './admin/response-cache-live.controller';
import { ResponseCacheMetrics, responseCacheMetricProviders } from './observability/response-cache-metrics';
import { ResponseCacheModuleExtras, ResponseCacheModuleOptions } from './response-cache.options';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: RESPONSE_CACHE_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ResponseCacheModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras<ResponseCacheModuleExtras>({ isGlobal: false, adminRoutes: false, metrics: false }, (definition, extras) => {
    const metrics =
      extras.metrics === false || extras.metrics === undefined
        ? []
        : responseCacheMetricProviders(extras.metrics === true ? {} : extras.metrics);
    return {
      ...definition,
      global: extras.isGlobal,
      controllers: extras.adminRoutes ? [ResponseCacheAdminController, ResponseCacheLiveController] : [],
      providers: [...(definition.providers ?? []), ...metrics],
      exports: [...(definition.exports ?? []), ...(metrics.length > 0 ? [ResponseCacheMetrics] : [])],
    };
  })
  .build();
