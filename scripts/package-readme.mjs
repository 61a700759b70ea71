#!/usr/bin/env node
// The package's README (libs/response-cache/README.md, what npm shows) is made from the project's
// README.md: its intro and user sections (install, the example, the features, the documentation),
// without the ones about this repository (the commands of the demo, tests, benchmark and checkers,
// the status, the repository's layout). Links to docs/ point at the repository: its URL from the
// package's `repository` field when there is one, else paths relative to libs/response-cache/.
// `--write` updates it; `--check` exits 1 when it is out of date.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lib = join(root, 'libs', 'response-cache');
const target = join(lib, 'README.md');
const KEEP = ['Install', 'Example', 'Features', 'Documentation'];

/** Where a repository path (`docs/stores.md`) is read from the package's README. */
function repositoryLink(path) {
  const { repository } = JSON.parse(readFileSync(join(lib, 'package.json'), 'utf8'));
  const url = typeof repository === 'string' ? repository : repository?.url;
  if (url === undefined) return `../../${path}`;
  return `${url.replace(/^git\+/, '').replace(/\.git$/, '')}/blob/HEAD/${path}`;
}

export function packageReadme() {
  const source = readFileSync(join(root, 'README.md'), 'utf8');
  const sections = source.split(/^(?=## )/m);
  const intro = sections[0]
    .split(/\n\n/)
    .filter((p) => p.startsWith('Node.js') || p.startsWith('A response cache'))
    .join('\n\n');
  const kept = sections
    .filter((section) => KEEP.includes(/^## (.+)$/m.exec(section)?.[1] ?? ''))
    .map((section) => section.replace(/^<!-- example: \w+ -->\n\n?/gm, ''));
  return (
    [`# nestjs-response-cache\n\n${intro}\n\n`, ...kept]
      .join('')
      .replace(/\]\((docs\/[^)\s]*)\)/g, (_, path) => `](${repositoryLink(path)})`)
      .trimEnd() + '\n'
  );
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
