#!/usr/bin/env node
'use strict';
// `npx nestjs-response-cache …`: the command line of the admin API (compiled to dist/cli).
require('../dist/cli/main.js');
