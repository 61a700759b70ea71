/**
 * `nestjs-response-cache/testing`: what tests of an app or a custom store need. The store contract
 * suite ({@link runStoreContract}), the clock that tests move by hand, and an entry builder.
 */
export { runStoreContract } from './store-contract';
export type { StoreUnderTest } from './store-contract';
export { cacheEntry } from './entry-builder';
export { ManualClock } from '../clock';
