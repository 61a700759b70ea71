#!/usr/bin/env node
// The options table of docs/decorators-and-options.md (between its `options:start` and
// `options:end` markers) is made from the library's option table (options/module-options.ts),
// where each option's default, check and line of docs are declared once. Needs the built library.
// `--write` updates the page; `--check` exits 1 when it is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import prettier from 'prettier';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const page = join(root, 'docs', 'decorators-and-options.md');
const dist = join(root, 'libs', 'response-cache', 'dist', 'options');
const require = createRequire(import.meta.url);
const { MODULE_OPTIONS } = require(join(dist, 'module-options.js'));
const { optionsMarkdown } = require(join(dist, 'option-table.js'));

async function withTable() {
  const source = readFileSync(page, 'utf8');
  const table = ['| option | default | meaning |', '| --- | --- | --- |', ...optionsMarkdown(MODULE_OPTIONS)].join('\n');
  const start = '<!-- options:start (made by npm run docs:options from options/module-options.ts) -->';
  const end = '<!-- options:end -->';
  const from = source.indexOf(start);
  const to = source.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${page} lacks the ${start} … ${end} markers`);
  const text = `${source.slice(0, from + start.length)}\n\n${table}\n\n${source.slice(to)}`;
  const config = (await prettier.resolveConfig(page)) ?? {};
  return prettier.format(text, { ...config, filepath: page });
}

const mode = process.argv[2];
const expected = await withTable();
if (mode === '--write') {
  writeFileSync(page, expected);
  console.log(`wrote ${page}`);
} else if (mode === '--check') {
  if (readFileSync(page, 'utf8') !== expected) {
    console.error(`${page} is out of date with the option table: run npm run docs:options and commit it.`);
    process.exit(1);
  }
  console.log('options table matches the option table');
}
