import type { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';

export type Adapter = 'express' | 'fastify';
export const ADAPTERS: Adapter[] = ['express', 'fastify'];

/** A booted fixture app and the base URL it listens on (127.0.0.1, a free port). */
export interface BootedApp {
  app: INestApplication;
  url: string;
}

/**
 * The one way the tests boot a small fixture module: `module` on `adapter` (Express or Fastify),
 * logger off, errors thrown instead of exiting; `beforeListen` is what the app's main.ts would do
 * between create and listen (global interceptors, hooks, middleware).
 */
export async function bootApp(adapter: Adapter | string, module: Type, beforeListen?: (app: INestApplication) => void): Promise<BootedApp> {
  const settings = { logger: false as const, abortOnError: false };
  const app =
    adapter === 'fastify' ? await NestFactory.create(module, new FastifyAdapter(), settings) : await NestFactory.create(module, settings);
  beforeListen?.(app);
  await app.listen(0, '127.0.0.1');
  return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}
