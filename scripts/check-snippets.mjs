#!/usr/bin/env node
// Every TypeScript block (```ts) of README.md and docs/*.md, type-checked against the package.
// Each block is written as a file of its own under dist/snippets/ (beside the `app.controller.ts`
// and `app.service.ts` of a `nest new` app, which the app.module.ts examples import), and all of
// them are checked in one TypeScript program with the repository's compiler options, the package
// mapped to its sources as tsconfig.json maps it. An error is reported at the line of the
// Markdown file it comes from; any error exits 1.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist', 'snippets');
const src = join(root, 'libs', 'response-cache', 'src');
// The files of the `nest new` app that the README's examples are pasted into (test/package uses them too).
const NEST_NEW_FILES = ['app.controller.ts', 'app.service.ts'];

/** The Markdown files whose blocks are checked: README.md, then docs/*.md. */
export function markdownFiles() {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => join('docs', name));
  return ['README.md', ...docs];
}

/** The ```ts blocks of one Markdown text: `{ line, code }`, line being that of the block's first code line (1-based). */
export function tsBlocks(text) {
  const blocks = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (!/^```ts\s*$/.test(lines[i])) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    if (end === lines.length) throw new Error(`unclosed \`\`\`ts block at line ${i + 1}`);
    blocks.push({ line: start + 1, code: lines.slice(start, end).join('\n') + '\n' });
    i = end;
  }
  return blocks;
}

function writeSnippets() {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  for (const name of NEST_NEW_FILES) copyFileSync(join(root, 'test', 'package', 'examples', name), join(outDir, name));
  const snippets = new Map(); // absolute path of the .ts file -> { doc, line }
  for (const doc of markdownFiles()) {
    for (const block of tsBlocks(readFileSync(join(root, doc), 'utf8'))) {
      const file = join(outDir, `${doc.replace(/[/.]/g, '-')}-L${block.line}.ts`);
      writeFileSync(file, block.code);
      snippets.set(file, { doc, line: block.line });
    }
  }
  const tsconfig = {
    extends: relative(outDir, join(root, 'tsconfig.json')),
    compilerOptions: {
      noEmit: true,
      rootDir: relative(outDir, root),
      paths: {
        'nestjs-response-cache': [join(src, 'index.ts')],
        'nestjs-response-cache/*': [join(src, '*', 'index.ts')],
      },
    },
    include: ['*.ts'],
    exclude: [],
  };
  writeFileSync(join(outDir, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2) + '\n');
  return snippets;
}

function check() {
  const snippets = writeSnippets();
  const config = ts.getParsedCommandLineOfConfigFile(
    join(outDir, 'tsconfig.json'),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
  );
  if (config === undefined || config.errors.length > 0) {
    console.error(
      'check-snippets: cannot read dist/snippets/tsconfig.json',
      config?.errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')),
    );
    return 1;
  }
  const program = ts.createProgram({ rootNames: config.fileNames, options: config.options });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  for (const diagnostic of diagnostics) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (diagnostic.file === undefined) {
      console.error(`error TS${diagnostic.code}: ${message}`);
      continue;
    }
    const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0);
    const snippet = snippets.get(diagnostic.file.fileName) ?? snippets.get(join(diagnostic.file.fileName));
    const where = snippet
      ? `${snippet.doc}:${snippet.line + line}:${character + 1}`
      : `${relative(root, diagnostic.file.fileName)}:${line + 1}:${character + 1}`;
    console.error(`${where} error TS${diagnostic.code}: ${message}`);
  }
  if (diagnostics.length > 0) {
    console.error(`check-snippets: ${diagnostics.length} error(s) in the TypeScript blocks of README.md and docs/*.md`);
    return 1;
  }
  const docs = new Set([...snippets.values()].map((s) => s.doc));
  console.log(`check-snippets: ${snippets.size} TypeScript blocks in ${docs.size} files compile`);
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = check();
