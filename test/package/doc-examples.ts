import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');

/** README.md and docs/*.md, the files where examples are marked: their paths relative to the repository. */
export function documentationFiles(): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => join('docs', name));
  return ['README.md', ...docs];
}

/**
 * Every code block marked `<!-- example: NAME -->` (right above its ```ts block) in README.md and
 * docs/*.md, with the file it is in. An example may be shown on more than one page; each copy counts.
 */
export function docExamples(name: string): { file: string; code: string }[] {
  const marker = new RegExp(`<!-- example: ${name} -->\\s*\`\`\`ts\\n([\\s\\S]*?)\`\`\``, 'g');
  return documentationFiles().flatMap((file) =>
    [...readFileSync(join(root, file), 'utf8').matchAll(marker)].map((match) => ({ file, code: match[1] })),
  );
}
