import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, sep } from 'node:path';
import { freePort } from './redis-harness';

/**
 * A real Varnish (Debian's `varnish`, vmod xkey from `varnish-modules`) for the edge tests:
 * started on a free port, in its own working directory, with a VCL shipped in deploy/varnish/
 * whose backend is pointed at the app under test; killed in teardown.
 */

/** deploy/varnish of the repository, whether this file runs from source (Jest) or built (dist/test/support). */
export const VCL_DIR = join(
  __dirname,
  ...(__dirname.includes(`${sep}dist${sep}`) ? ['..', '..', '..'] : ['..', '..']),
  'deploy',
  'varnish',
);

export function varnishdBin(): string {
  const configured = process.env.VARNISHD_BIN;
  if (configured !== undefined && configured !== '') return configured;
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin']) {
    if (dir !== '' && existsSync(join(dir, 'varnishd'))) return join(dir, 'varnishd');
  }
  throw new Error(
    'The edge tests need varnishd and vmod xkey. Install them (Debian/Ubuntu: `apt-get install varnish varnish-modules`; .ci/run does) or set VARNISHD_BIN.',
  );
}

/** The shipped VCL with its backend (`demo:3000`) replaced by the app under test. */
export function vclFor(file: string, backendPort: number, backendHost = '127.0.0.1'): string {
  const vcl = readFileSync(join(VCL_DIR, file), 'utf8');
  const pointed = vcl.replace('.host = "demo";', `.host = "${backendHost}";`).replace('.port = "3000";', `.port = "${backendPort}";`);
  if (pointed === vcl) throw new Error(`${file} has no backend "demo:3000" to point at the app`);
  return pointed;
}

export class VarnishProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly port: number,
    private readonly output: () => string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts varnishd in front of `backendPort` with `deploy/varnish/<vcl>`; `port` is taken free unless given. */
  static async start(backendPort: number, vcl = 'default.vcl', port?: number): Promise<VarnishProcess> {
    const listen = port ?? (await freePort());
    const dir = mkdtempSync(join(tmpdir(), 'rc-varnish-'));
    const vclPath = join(dir, vcl);
    writeFileSync(vclPath, vclFor(vcl, backendPort));
    // -j none: no privilege separation (the tests may run as root); -F: in the foreground, so that killing it stops it.
    const args = [
      '-F',
      '-j',
      'none',
      '-n',
      join(dir, 'work'),
      '-a',
      `127.0.0.1:${listen}`,
      '-f',
      vclPath,
      '-s',
      'malloc,64m',
      '-T',
      'none',
    ];
    const child = spawn(varnishdBin(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const varnish = new VarnishProcess(child, dir, listen, () => output);
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (child.exitCode !== null) {
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`varnishd exited (${child.exitCode}): ${output}`);
      }
      const ok = await fetch(`${varnish.url}/`, { method: 'PURGE', headers: { 'xkey-purge': 'startup-probe' } }).then(
        (res) => res.arrayBuffer().then(() => res.status === 200),
        () => false,
      );
      if (ok) return varnish;
      if (Date.now() > deadline) {
        await varnish.stop();
        throw new Error(`varnishd did not answer on ${listen}: ${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  get log(): string {
    return this.output();
  }

  /** Requests Varnish sent to the app so far (varnishstat MAIN.backend_req): the ones that reached Node. */
  backendRequests(): number {
    const varnishstat = join(varnishdBin(), '..', '..', 'bin', 'varnishstat');
    const bin = existsSync(varnishstat) ? varnishstat : 'varnishstat';
    const out = execFileSync(bin, ['-n', join(this.dir, 'work'), '-1', '-f', 'MAIN.backend_req'], { encoding: 'utf8' });
    const match = /MAIN\.backend_req\s+(\d+)/.exec(out);
    if (match === null) throw new Error(`varnishstat gave no MAIN.backend_req: ${out}`);
    return Number(match[1]);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A server that accepts connections and never answers (a hung edge). */
export async function hungServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
