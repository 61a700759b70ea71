import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * Real redis-server processes for the integration tests: started on free ports, in their own
 * temporary directories, and killed, paused (SIGSTOP), resumed and restarted for fault tests.
 */

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name);
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  return undefined;
}

export function redisServerBin(): string {
  const configured = process.env.REDIS_SERVER_BIN;
  if (configured !== undefined && configured !== '') {
    if (!existsSync(configured)) throw new Error(`REDIS_SERVER_BIN=${configured} does not exist.`);
    return configured;
  }
  const found = onPath('redis-server');
  if (found === undefined) {
    throw new Error(
      'The Redis integration tests need redis-server. Install it (Debian/Ubuntu: `apt-get install redis-server`; macOS: `brew install redis`) or set REDIS_SERVER_BIN to its path.',
    );
  }
  return found;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let reply = '';
    socket.setTimeout(300);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) {
        socket.destroy();
        resolve(reply.startsWith('+PONG') || reply.startsWith('-NOAUTH')); // up (with --requirepass: up and asking for AUTH)
      }
    });
    socket.on('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', () => resolve(false));
  });
}

export async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export class RedisProcess {
  private child?: ChildProcess;
  readonly dir: string;

  private constructor(
    readonly port: number,
    private readonly extraArgs: string[],
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'rc-redis-'));
  }

  static async start(extraArgs: string[] = []): Promise<RedisProcess> {
    const redis = new RedisProcess(await freePort(), extraArgs);
    await redis.launch();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the process again (after `kill`); `moreArgs` are added this time (say, `--replicaof host port`). */
  async launch(moreArgs: string[] = []): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      this.dir,
      ...this.extraArgs,
      ...moreArgs,
    ];
    this.child = spawn(redisServerBin(), args, { stdio: 'ignore' });
    await waitFor(() => ping(this.port), `redis-server on port ${this.port}`);
  }

  get isRunning(): boolean {
    return this.child !== undefined && this.child.exitCode === null;
  }

  /** SIGKILL: the process is gone, the port refuses connections. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGCONT');
    child.kill('SIGKILL');
    await exited;
    this.child = undefined;
  }

  /** SIGSTOP: connections stay open but nothing answers (a hung Redis). */
  pause(): void {
    this.child?.kill('SIGSTOP');
  }

  resume(): void {
    this.child?.kill('SIGCONT');
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function redisCliBin(): string {
  return process.env.REDIS_CLI_BIN ?? onPath('redis-cli') ?? join(redisServerBin(), '..', 'redis-cli');
}

/** A three-master Redis Cluster, created with redis-cli; with `replicas: 1`, each master has a replica (six nodes). */
export class RedisClusterProcesses {
  private constructor(readonly nodes: RedisProcess[]) {}

  static async start(options: { replicas?: 0 | 1; nodeTimeoutMs?: number } = {}): Promise<RedisClusterProcesses> {
    const replicas = options.replicas ?? 0;
    const timeout = String(options.nodeTimeoutMs ?? 2000);
    const nodes = await Promise.all(
      Array.from({ length: 3 * (1 + replicas) }, () =>
        RedisProcess.start(['--cluster-enabled', 'yes', '--cluster-node-timeout', timeout, '--repl-diskless-sync-delay', '0']),
      ),
    );
    const cli = redisCliBin();
    execFileSync(
      cli,
      ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', String(replicas), '--cluster-yes'],
      {
        stdio: 'ignore',
        timeout: 20_000,
      },
    );
    await waitFor(async () => {
      const states = nodes.map((n) => {
        try {
          return execFileSync(cli, ['-p', String(n.port), 'cluster', 'info'], { encoding: 'utf8', timeout: 2000 });
        } catch {
          return '';
        }
      });
      return states.every((s) => s.includes('cluster_state:ok'));
    }, 'the cluster to be ready');
    // Every node ok is not yet every node agreeing on the slot map; under load that takes longer.
    await waitFor(
      async () => {
        try {
          const check = execFileSync(cli, ['--cluster', 'check', `127.0.0.1:${nodes[0].port}`], { encoding: 'utf8', timeout: 5000 });
          return check.includes('All nodes agree about slots configuration') && check.includes('All 16384 slots covered');
        } catch {
          return false;
        }
      },
      'the cluster nodes to agree on the slot map',
      20_000,
    );
    return new RedisClusterProcesses(nodes);
  }

  get seeds(): { host: string; port: number }[] {
    return this.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
}
