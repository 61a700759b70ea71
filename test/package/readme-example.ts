import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The README's `app.module.ts` examples, each marked `<!-- example: NAME -->` above its code block. */
export const README_EXAMPLES = ['memory', 'redis', 'cluster', 'tiered'] as const;

/** The code of the README example `name`, exactly as README.md has it (undefined when there is none). */
export function readmeExample(name: string): string | undefined {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  return new RegExp(`<!-- example: ${name} -->\\s*\`\`\`ts\\n([\\s\\S]*?)\`\`\``).exec(readme)?.[1];
}
