import { ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The `@nestjs/cli` whose `nest new` makes the app (an ES module app since CLI 12: "type":
 * "module", relative imports ending in .js, vitest). Raise it on purpose, as .ci/run's Node.
 */
export const NEST_CLI_VERSION = '12.0.8';

/** Generated apps (node_modules included) are kept here, one per CLI version, like .ci/run's Node. */
const CACHE = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'nestjs-response-cache', 'nest-new', NEST_CLI_VERSION);

const quiet = { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };

function npm(cwd: string, args: string[]) {
  return run('npm', [...args, '--loglevel=error'], { cwd, env: quiet, maxBuffer: 64 * 1024 * 1024 });
}

/**
 * `nest new app --skip-git --package-manager npm` (from the registry, once per CLI version), plus
 * `npm i ioredis` as the README's Redis examples say. Later runs reuse it, offline.
 */
async function generatedApp(): Promise<string> {
  const app = join(CACHE, 'app');
  if (existsSync(app)) return app; // it is moved there only once complete
  mkdirSync(CACHE, { recursive: true });
  const work = mkdtempSync(join(CACHE, 'generating-'));
  try {
    const cli = `@nestjs/cli@${NEST_CLI_VERSION}`;
    await run('npx', ['-y', cli, 'new', 'app', '--skip-git', '--package-manager', 'npm'], { cwd: work, env: quiet, maxBuffer: 1 << 26 });
    await npm(join(work, 'app'), ['install', 'ioredis']);
    renameSync(join(work, 'app'), app);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return app;
}

export interface NestNewApp {
  readonly dir: string;
  /** Writes `src/app.module.ts` and builds the app with `npm run build` (nest build). */
  build(appModule: string): Promise<void>;
  /** `node dist/main.js` on a free port (PORT), resolved once it answers. */
  start(env?: Record<string, string>): Promise<{ url: string; stop(): Promise<void> }>;
  /**
   * Type-checks `appModule` as a CommonJS `nodenext` app would (a folder whose package.json says
   * "type": "commonjs", with the app's controller and service, under the app's tsconfig).
   */
  checkAsCommonJs(appModule: string): Promise<void>;
  /** The app's own `npm <args>` (its tests). */
  npm(args: string[]): Promise<{ stdout: string; stderr: string }>;
  remove(): void;
}

/**
 * A copy of the generated app outside the workspace, with the packed package installed (`npm i
 * <tarball>`) and `nest new`'s controller replaced by one whose GET is cached.
 */
export async function nestNewApp(tarball: string, controller: string): Promise<NestNewApp> {
  const cached = await generatedApp();
  const dir = join(mkdtempSync(join(tmpdir(), 'nrc-nest-new-')), 'app');
  cpSync(cached, dir, { recursive: true, verbatimSymlinks: true });
  await npm(dir, ['install', tarball, '--prefer-offline']);
  cpSync(controller, join(dir, 'src', 'app.controller.ts'));
  return {
    dir,
    build: async (appModule) => {
      writeFileSync(join(dir, 'src', 'app.module.ts'), appModule);
      await npm(dir, ['run', 'build']);
    },
    checkAsCommonJs: async (appModule) => {
      const cjs = join(dir, 'cjs-check');
      mkdirSync(cjs, { recursive: true });
      writeFileSync(join(cjs, 'package.json'), JSON.stringify({ type: 'commonjs' }));
      for (const file of ['app.controller.ts', 'app.service.ts']) cpSync(join(dir, 'src', file), join(cjs, file));
      writeFileSync(join(cjs, 'app.module.ts'), appModule);
      const tsconfig = { extends: '../tsconfig.json', compilerOptions: { noEmit: true, incremental: false, rootDir: '.' }, include: ['.'] };
      writeFileSync(join(cjs, 'tsconfig.json'), JSON.stringify(tsconfig));
      await run(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(cjs, 'tsconfig.json')], { cwd: dir });
    },
    start: (env = {}) => start(dir, env),
    npm: (args) => npm(dir, args),
    remove: () => rmSync(join(dir, '..'), { recursive: true, force: true }),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** nest new's main.ts listens on PORT and prints no address: poll until it answers. */
async function start(dir: string, env: Record<string, string>) {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ['dist/main.js'], {
    cwd: dir,
    env: { ...process.env, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
  };
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null) throw new Error(`the app exited with ${child.exitCode}:\n${output}`);
    try {
      await fetch(`${url}/does-not-exist`).then((response) => response.arrayBuffer());
      return { url, stop };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  await stop();
  throw new Error(`the app did not answer within 20 s:\n${output}`);
}
