import { ABSENT, Read, Verdict, Write } from './history';

/** Something that happened during a run, at `at` (`performance.now()` of the checker). */
export interface RunEvent {
  at: number;
  source: string;
  text: string;
}

type Violation = Verdict['violations'][number];

const ms = (at: number, began: number) => `${(at - began).toFixed(0)} ms`;

function describeWrite(write: Write, began: number): string {
  const what = write.value === ABSENT ? 'delete' : `"${write.value}"`;
  const by = write.method === undefined ? 'a create seen by a read' : `${write.method} on instance ${write.instance}`;
  const acked = write.acknowledged ? 'acknowledged' : 'not acknowledged';
  return `${what} (${by}, ${ms(write.start, began)} to ${ms(write.end, began)}, ${acked})`;
}

function describeRead(read: Read | undefined, began: number): string {
  if (read === undefined) return 'the read (not found)';
  const how = `X-Cache ${read.xCache ?? '-'}, Cache-Status ${read.cacheStatus ?? '-'}, Age ${read.age ?? '-'}`;
  return `GET ${read.path ?? '?'} on instance ${read.instance}, ${ms(read.start, began)} to ${ms(read.end, began)} (${how})`;
}

/**
 * One violation in full: the read (path, instance, how the cache answered), the writes that could
 * have produced what it returned, and the acknowledged writes that had replaced it before it began.
 */
export function explainViolation(violation: Violation, writes: Write[], reads: Read[], began: number): string[] {
  const read = reads.find((r) => r.start === violation.readStart && r.instance === violation.instance && r.values.has(violation.key));
  const history = writes.filter((w) => w.key === violation.key).sort((a, b) => a.start - b.start);
  const sources = history.filter((w) => w.value === violation.value);
  const later = history.filter((w) => w.value !== violation.value && w.start < violation.readStart);
  return [
    `post ${violation.key} read as ${JSON.stringify(violation.value)}, ${violation.lagMs.toFixed(1)} ms after it was replaced: ${describeRead(read, began)}`,
    ...sources.map((w) => `  written by ${describeWrite(w, began)}`),
    ...later.filter((w) => sources.every((s) => w.start > s.start)).map((w) => `  then ${describeWrite(w, began)}`),
  ];
}

/**
 * The report of a run with violations: each (up to `limit`) in full, then what happened around
 * them (the fault schedule's steps and what the instances logged), in the run's time.
 */
export function explainRun(verdict: Verdict, writes: Write[], reads: Read[], events: RunEvent[], began: number, limit = 10): string[] {
  if (verdict.violations.length === 0) return [];
  const lines = verdict.violations.slice(0, limit).flatMap((v) => explainViolation(v, writes, reads, began));
  const sorted = [...events].sort((a, b) => a.at - b.at);
  lines.push('events of the run:', ...sorted.map((e) => `  ${ms(e.at, began).padStart(9)} ${e.source}: ${e.text}`));
  return lines;
}
