/**
 * `nestjs-response-cache/terminus`: a Terminus health indicator of the cache store
 * (`@nestjs/terminus` is an optional peer, installed by apps that use this).
 */
import './peer-check'; // first: names a missing optional peer before anything needs it
export { ResponseCacheHealthIndicator } from './cache-health.indicator';
