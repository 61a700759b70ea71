#!/usr/bin/env node
// The two options tables of docs/decorators-and-options.md (between its `cacheable:start` …
// `cacheable:end` and `options:start` … `options:end` markers) are made from the library's option
// tables (decorators/cacheable-options.ts, options/module-options.ts), where each option's default,
// check and line of docs are declared once. Needs the built library.
// `--write` updates the page; `--check` exits 1 when it is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import prettier from 'prettier';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const page = join(root, 'docs', 'decorators-and-options.md');
const dist = join(root, 'libs', 'response-cache', 'dist');
const require = createRequire(import.meta.url);
const { MODULE_OPTIONS } = require(join(dist, 'options', 'module-options.js'));
const { CACHEABLE_OPTIONS } = require(join(dist, 'decorators', 'cacheable-options.js'));
const { optionsMarkdown } = require(join(dist, 'options', 'option-table.js'));

/** `source` with the table of `rows` between the markers named `name`. */
function replaceTable(source, name, file, rows) {
  const table = ['| option | default | meaning |', '| --- | --- | --- |', ...optionsMarkdown(rows)].join('\n');
  const start = `<!-- ${name}:start (made by npm run docs:options from ${file}) -->`;
  const end = `<!-- ${name}:end -->`;
  const from = source.indexOf(start);
  const to = source.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${page} lacks the ${start} … ${end} markers`);
  return `${source.slice(0, from + start.length)}\n\n${table}\n\n${source.slice(to)}`;
}

async function withTable() {
  let text = readFileSync(page, 'utf8');
  text = replaceTable(text, 'cacheable', 'decorators/cacheable-options.ts', CACHEABLE_OPTIONS);
  text = replaceTable(text, 'options', 'options/module-options.ts', MODULE_OPTIONS);
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
  console.log('options tables match the option tables');
}
