#!/usr/bin/env node
// The library's shape, checked in `npm test` (docs/contributing.md, "The library's shape"):
// - layers: a module imports only from its own layer or the layers below it (LAYERS, top first);
// - no import cycle between files;
// - no function longer than MAX_FUNCTION_LINES, no file longer than MAX_FILE_LINES.
// Specs are left out. `--graph` prints the imports between layers.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'libs', 'response-cache', 'src');
const MAX_FUNCTION_LINES = 40;
const MAX_FILE_LINES = 300;

/** Top first. A folder of src/, or a file at its root. */
export const LAYERS = [
  ['index.ts', 'response-cache.module.ts', 'response-cache.module-definition.ts'],
  ['admin', 'cli', 'prometheus', 'terminus', 'testing'],
  ['decorators'],
  ['interceptor', 'lane'],
  ['hit'],
  ['plan'],
  ['engine'],
  ['policy', 'key'],
  ['http'],
  ['options'],
  ['response-cache.options.ts'],
  ['edge', 'redis'],
  ['store'],
  ['observability'],
  ['response-cache.constants.ts', 'response-cache.errors.ts', 'clock.ts', 'optional-peers.ts'],
];

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return path.endsWith('.ts') && !path.endsWith('.spec.ts') ? [path] : [];
  });
}

const unitOf = (file) => relative(src, file).split('/')[0];
const layerOf = (file) => {
  const layer = LAYERS.findIndex((units) => units.includes(unitOf(file)));
  if (layer < 0) throw new Error(`${relative(root, file)}: its folder is in no layer of scripts/check-shape.mjs`);
  return layer;
};

function resolveImport(from, specifier) {
  const target = resolve(dirname(from), specifier);
  for (const candidate of [`${target}.ts`, join(target, 'index.ts')]) {
    try {
      readFileSync(candidate);
      return candidate;
    } catch {
      // next
    }
  }
  throw new Error(`${relative(root, from)}: cannot resolve ${specifier}`);
}

const problems = [];
const imports = new Map();
const between = new Map();
for (const file of sources(src)) {
  const text = readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const name = relative(src, file);
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines > MAX_FILE_LINES) problems.push(`${name}: ${lines} lines (at most ${MAX_FILE_LINES})`);
  const targets = [];
  for (const statement of source.statements) {
    const specifier = statement.moduleSpecifier?.text;
    if (specifier === undefined || !specifier.startsWith('.')) continue;
    const target = resolveImport(file, specifier);
    targets.push(target);
    if (unitOf(target) !== unitOf(file)) {
      const arrow = `${unitOf(file)} -> ${unitOf(target)}`;
      between.set(arrow, (between.get(arrow) ?? 0) + 1);
    }
    if (layerOf(target) < layerOf(file))
      problems.push(`${name} imports ${relative(src, target)}: upward (${unitOf(file)} is below ${unitOf(target)})`);
  }
  imports.set(file, targets);
  const visit = (node) => {
    const body = node.body;
    if (body !== undefined && (ts.isFunctionLike(node) || ts.isArrowFunction(node))) {
      const first = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const last = source.getLineAndCharacterOfPosition(node.end).line;
      const length = last - first + 1;
      const label = node.name?.getText(source) ?? '(anonymous)';
      if (length > MAX_FUNCTION_LINES) problems.push(`${name}:${first + 1} ${label}: ${length} lines (at most ${MAX_FUNCTION_LINES})`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

// Cycles: depth-first search, reporting each cycle once by its path.
const state = new Map();
const stack = [];
function walk(file) {
  state.set(file, 'open');
  stack.push(file);
  for (const target of imports.get(file) ?? []) {
    if (state.get(target) === 'open') {
      const cycle = stack
        .slice(stack.indexOf(target))
        .concat(target)
        .map((f) => relative(src, f));
      problems.push(`import cycle: ${cycle.join(' -> ')}`);
    } else if (!state.has(target)) walk(target);
  }
  stack.pop();
  state.set(file, 'done');
}
for (const file of imports.keys()) if (!state.has(file)) walk(file);

if (process.argv.includes('--graph')) for (const [arrow, count] of [...between].sort()) console.log(`${arrow} (${count})`);
if (problems.length > 0) {
  console.error(`check-shape: ${problems.length} problem(s) in libs/response-cache/src:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(
  `check-shape: ${imports.size} modules in ${LAYERS.length} layers, no upward import, no cycle, functions ≤ ${MAX_FUNCTION_LINES} lines, files ≤ ${MAX_FILE_LINES} lines`,
);
