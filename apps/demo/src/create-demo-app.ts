import 'reflect-metadata';
import { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { DemoModule, DemoModuleOptions } from './demo.module';
import { loadDemoConfig } from './demo.config';

export interface CreateDemoAppOptions extends DemoModuleOptions {
  /** Overrides HTTP_ADAPTER. */
  adapter?: 'express' | 'fastify';
  logger?: false;
}

/** Builds the demo app on Express or Fastify (not yet listening). */
export async function createDemoApp(options: CreateDemoAppOptions = {}): Promise<INestApplication> {
  const env = options.env ?? process.env;
  const adapter = options.adapter ?? loadDemoConfig(env).httpAdapter;
  const module = DemoModule.forRoot({ env, clock: options.clock });
  const logger = options.logger === false ? false : undefined;
  const app =
    adapter === 'fastify'
      ? await NestFactory.create(module, new FastifyAdapter(), { logger })
      : await NestFactory.create(module, { logger });
  app.enableShutdownHooks();
  return app;
}
