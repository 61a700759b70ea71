#!/usr/bin/env node
// The public API report of nestjs-response-cache: every name each entry point (package.json
// `exports`) makes public, with its declaration as the built .d.ts files state it (comments and
// private members left out). `--write` updates libs/response-cache/api-report.md; `--check`
// exits 1 when the build differs from it, so that a change to the public API is always a diff.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const lib = join(dirname(fileURLToPath(import.meta.url)), '..', 'libs', 'response-cache');
const reportPath = join(lib, 'api-report.md');

function entryPoints() {
  const { name, exports } = JSON.parse(readFileSync(join(lib, 'package.json'), 'utf8'));
  return Object.entries(exports)
    .filter(([, target]) => typeof target === 'object' && target.types !== undefined)
    .map(([subpath, target]) => ({ specifier: subpath === '.' ? name : `${name}${subpath.slice(1)}`, file: join(lib, target.types) }));
}

const isPrivate = (member) =>
  (ts.getCombinedModifierFlags(member) & ts.ModifierFlags.Private) !== 0 ||
  (member.name !== undefined && ts.isPrivateIdentifier(member.name));

function publicShape(node) {
  if (ts.isClassDeclaration(node)) {
    return ts.factory.updateClassDeclaration(
      node,
      node.modifiers,
      node.name,
      node.typeParameters,
      node.heritageClauses,
      node.members.filter((m) => !isPrivate(m)),
    );
  }
  return node;
}

export function report() {
  const entries = entryPoints();
  const program = ts.createProgram(
    entries.map((e) => e.file),
    { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, strict: true, skipLibCheck: true, noEmit: true },
  );
  const checker = program.getTypeChecker();
  const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });
  const sections = [];
  let total = 0;
  for (const entry of entries) {
    const source = program.getSourceFile(entry.file);
    if (source === undefined) throw new Error(`${entry.file} is missing: build the library first (npm run build:lib)`);
    const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(source)).sort((a, b) => a.name.localeCompare(b.name));
    total += exported.length;
    const lines = [`## \`${entry.specifier}\` (${exported.length} names)`, '', '```ts'];
    for (const symbol of exported) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      for (const declaration of target.declarations ?? []) {
        const node = ts.isVariableDeclaration(declaration) ? declaration.parent.parent : declaration;
        const text = printer.printNode(ts.EmitHint.Unspecified, publicShape(node), node.getSourceFile());
        lines.push(text.replace(/^export (declare )?/, '').replace(/^declare /, ''));
      }
    }
    lines.push('```', '');
    sections.push(lines.join('\n'));
  }
  return [
    '# Public API of nestjs-response-cache',
    '',
    `Generated from the built declarations by \`npm run api:report\`; \`npm test\` fails when the build differs. ${total} names in all.`,
    '',
    ...sections,
  ].join('\n');
}

const mode = process.argv[2];
if (mode === '--write') {
  writeFileSync(reportPath, report());
  console.log(`wrote ${reportPath}`);
} else if (mode === '--check') {
  const built = report();
  const stored = readFileSync(reportPath, 'utf8');
  if (built !== stored) {
    writeFileSync(`${reportPath}.new`, built);
    console.error(
      `The public API differs from ${reportPath} (see ${reportPath}.new). If the change is intended, run npm run api:report and commit the report.`,
    );
    process.exit(1);
  }
  console.log('public API matches api-report.md');
}
