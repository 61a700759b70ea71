/**
 * NestJS 12 ships as ES modules; SWC compiles them (and our TypeScript) to CommonJS for Jest,
 * keeping decorator metadata, which Nest's dependency injection reads.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|j|mj)s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  transformIgnorePatterns: [],
  // The repo imports its own package by name, as users do; tests run it from source (the fixture
  // tests under test/package install the packed tarball instead). `internal/` reaches modules that
  // the package does not export, for tests of internals only.
  moduleNameMapper: {
    '^nestjs-response-cache$': '<rootDir>/libs/response-cache/src/index.ts',
    '^nestjs-response-cache/internal/(.*)$': '<rootDir>/libs/response-cache/src/$1',
    '^nestjs-response-cache/(redis|terminus|prometheus|testing)$': '<rootDir>/libs/response-cache/src/$1/index.ts',
    // Relative imports ending in .js (as the README's examples and ES module apps write them) reach the .ts source.
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  modulePathIgnorePatterns: ['<rootDir>/dist/', '<rootDir>/libs/response-cache/dist/'],
  testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts', '<rootDir>/test/**/*.e2e-spec.ts'],
  testTimeout: 30000,
  // One PostgreSQL database per run for the demo's data (test/support/postgres.ts).
  globalSetup: '<rootDir>/test/support/jest-global-setup.ts',
  globalTeardown: '<rootDir>/test/support/jest-global-teardown.ts',
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
};
