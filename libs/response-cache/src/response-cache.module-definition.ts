import { ConfigurableModuleBuilder } from '@nestjs/common';
import { ResponseCacheAdminController } from './admin/response-cache-admin.controller';
import { ResponseCacheModuleOptions } from './response-cache.options';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: RESPONSE_CACHE_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ResponseCacheModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: false, adminRoutes: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
    controllers: extras.adminRoutes ? [ResponseCacheAdminController] : [],
  }))
  .build();
