#!/usr/bin/env node
// The package's README (libs/response-cache/README.md, what npm shows) is made from the project's
// README.md: its user sections, without the ones about this repository (the demo, tests,
// benchmark, Grafana files). `--write` updates it; `--check` exits 1 when it is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = join(root, 'libs', 'response-cache', 'README.md');
const KEEP = ['Install', 'Using the library', 'What it does, precisely', 'Stores', 'Admin API', 'Operations'];
const DROP_SUBSECTIONS = ['Grafana'];

export function packageReadme() {
  const source = readFileSync(join(root, 'README.md'), 'utf8');
  const sections = source.split(/^(?=## )/m);
  const intro = sections[0]
    .split(/\n\n/)
    .filter((p) => p.startsWith('Node.js') || p.startsWith('A response cache'))
    .join('\n\n');
  const kept = sections
    .filter((section) => KEEP.includes(/^## (.+)$/m.exec(section)?.[1] ?? ''))
    .map((section) =>
      section
        .split(/^(?=### )/m)
        .filter((sub) => !DROP_SUBSECTIONS.includes(/^### (.+)$/m.exec(sub)?.[1] ?? ''))
        .join('')
        .replace(/^<!-- example: \w+ -->\n/gm, ''),
    );
  return [`# nestjs-response-cache\n\n${intro}\n\n`, ...kept].join('').trimEnd() + '\n';
}

const mode = process.argv[2];
if (mode === '--write') {
  writeFileSync(target, packageReadme());
  console.log(`wrote ${target}`);
} else if (mode === '--check') {
  if (readFileSync(target, 'utf8') !== packageReadme()) {
    console.error(`${target} is out of date with README.md: run npm run docs:package and commit it.`);
    process.exit(1);
  }
  console.log('package README matches README.md');
}
