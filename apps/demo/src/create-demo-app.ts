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
  const module = DemoModule.forRoot(options);
  // Startup errors are thrown (and printed by main), not turned into process.exit.
  const settings = { logger: options.logger === false ? (false as const) : undefined, abortOnError: false };
  const app =
    adapter === 'fastify' ? await NestFactory.create(module, new FastifyAdapter(), settings) : await NestFactory.create(module, settings);
  app.enableShutdownHooks();
  return app;
}
