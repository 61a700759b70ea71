import { docExamples } from './doc-examples';

/** The documentation's `app.module.ts` examples, each marked `<!-- example: NAME -->` above its code block. */
export const README_EXAMPLES = ['memory', 'redis', 'cluster', 'tiered'] as const;

/** The code of the example `name`, exactly as README.md or docs/ show it first (undefined when there is none). */
export function readmeExample(name: string): string | undefined {
  return docExamples(name)[0]?.code;
}
