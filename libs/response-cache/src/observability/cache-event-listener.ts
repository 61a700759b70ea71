import { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { CacheEvent, CacheEvents } from './cache-events';

/** A provider that listens to cache events for the lifetime of its module (metrics, stats). */
export abstract class CacheEventListener implements OnModuleInit, OnModuleDestroy {
  private unsubscribe?: () => void;

  constructor(protected readonly events: CacheEvents) {}

  onModuleInit(): void {
    this.unsubscribe = this.events.subscribe((event) => this.record(event));
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  protected abstract record(event: CacheEvent): void;
}
