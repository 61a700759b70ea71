import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';
import { freePort } from '../../test/support/redis-harness';

/** The built demo (npm run build makes it), whether this file runs built (dist/check/…) or from source (Jest). */
const ROOT = join(__dirname, ...(__dirname.includes(`${sep}dist${sep}`) ? ['..', '..', '..'] : ['..', '..']));
export const DEMO_MAIN = join(ROOT, 'dist', 'apps', 'demo', 'src', 'main.js');

/** The terminal colours of Nest's logger. */
const ANSI_COLOUR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

/** One demo app in a process of its own, on a free port of 127.0.0.1, as a real instance runs. */
export class DemoProcess {
  private output = '';
  /** Every line printed, with when it arrived (`performance.now()` of this process), for the report of a violation. */
  readonly lines: { at: number; text: string }[] = [];

  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
  ) {
    const keep = (chunk: Buffer) => {
      this.output = (this.output + chunk.toString()).slice(-20_000);
      const at = performance.now();
      const lines = chunk.toString().replace(ANSI_COLOUR, '').split('\n');
      for (const text of lines) if (text.trim() !== '' && this.lines.length < 5_000) this.lines.push({ at, text });
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  /** Starts the demo with `env` over a quiet default (no warming, no generated token) and waits until it answers. */
  static async start(env: Record<string, string>, timeoutMs = 60_000): Promise<DemoProcess> {
    if (!existsSync(DEMO_MAIN)) throw new Error(`${DEMO_MAIN} is missing: run npm run build first`);
    const port = await freePort();
    const child = spawn(process.execPath, [DEMO_MAIN], {
      env: { PATH: process.env.PATH, CACHE_WARM_PATHS: '', CACHE_ADMIN_TOKEN: 'consistency', ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const demo = new DemoProcess(`http://127.0.0.1:${port}`, child);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the demo exited with ${child.exitCode}:\n${demo.output}`);
      const up = await fetch(`${demo.url}/health`).then(
        (res) => res.status === 200,
        () => false,
      );
      if (up) return demo;
      if (Date.now() > deadline) {
        await demo.stop();
        throw new Error(`the demo did not answer within ${timeoutMs} ms:\n${demo.output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The process id (to read its CPU time). */
  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** The statements the demo has sent to PostgreSQL so far (`demo_db_queries_total`, all operations, from its /metrics). */
  async statements(): Promise<number> {
    const text = await (await fetch(`${this.url}/metrics`)).text();
    return [...text.matchAll(/^demo_db_queries_total\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  }

  /** What the process printed last (for failure messages). */
  get log(): string {
    return this.output;
  }

  /** SIGTERM (the app closes its pools and Redis clients), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
