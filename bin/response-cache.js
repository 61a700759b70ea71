#!/usr/bin/env node
'use strict';
// `npx response-cache …`: the CLI of the admin API, compiled by `npm run build` (run by `npm ci` through `prepare`).
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const main = join(__dirname, '..', 'dist', 'libs', 'response-cache', 'cli', 'main.js');
if (!existsSync(main)) {
  process.stderr.write(`response-cache: ${main} is missing; run "npm run build" first\n`);
  process.exit(1);
}
require(main);
