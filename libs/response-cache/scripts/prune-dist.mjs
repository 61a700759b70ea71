#!/usr/bin/env node
/* global console */
// Run after tsc: removes what dist/ still holds from sources that no longer exist (tsc never deletes
// an output), so that a renamed or removed module cannot ship in the package. Current outputs stay
// in place, so a process that runs the built package meanwhile never finds one missing.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const removed = [];
for (const entry of existsSync(dist) ? readdirSync(dist, { recursive: true, withFileTypes: true }) : []) {
  const match = /^(.+?)(\.d\.ts|\.js)$/.exec(entry.name);
  if (!entry.isFile() || match === null) continue;
  const file = join(entry.parentPath, entry.name);
  const source = join(root, 'src', relative(dist, entry.parentPath), `${match[1]}.ts`);
  if (!existsSync(source)) {
    rmSync(file);
    removed.push(relative(root, file));
  }
}
if (removed.length > 0) console.log(`removed from dist (their sources are gone): ${removed.join(', ')}`);
