import { ConfigurableModuleBuilder } from '@nestjs/common';
import { ResponseCacheModuleOptions } from './response-cache.options';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: RESPONSE_CACHE_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ResponseCacheModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
