import { ChildProcess, execFile, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const LIBRARY_DIR = join(__dirname, '..', '..', 'libs', 'response-cache');
const FIXTURES = join(__dirname, 'fixtures');

/** npm, run by the Node that runs the tests (so that the fixtures run on the Node under test). */
async function npm(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await run('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd,
    env: { ...process.env, npm_config_update_notifier: 'false' },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/** `npm pack` of the library (its prepack builds it) into a temporary folder; the tarball's path. */
export async function packLibrary(): Promise<{ tarball: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'nrc-pack-'));
  const out = await npm(LIBRARY_DIR, ['pack', '--json', '--pack-destination', dir]);
  const [{ filename }] = JSON.parse(out) as { filename: string }[];
  return { tarball: join(dir, filename), dir };
}

export interface InstalledFixture {
  dir: string;
  /** Packages present in the fixture's node_modules, by name. */
  has(pkg: string): boolean;
  start(env?: Record<string, string>): Promise<RunningFixture>;
  remove(): void;
}

export interface RunningFixture {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Copies fixture `name` into a temporary folder outside the workspace (so that nothing resolves
 * into the repository's node_modules), installs its dependencies plus the packed tarball, and
 * builds it with its own tsc.
 */
export async function installFixture(name: string, tarball: string): Promise<InstalledFixture> {
  const dir = mkdtempSync(join(tmpdir(), `nrc-${name}-`));
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  cpSync(join(FIXTURES, 'track-loads.cjs'), join(dir, 'track-loads.cjs'));
  // The same cached GET and invalidating POST in every fixture app, and (where the app has none of
  // its own, as the ES module app does) the CommonJS report of loaded packages.
  cpSync(join(FIXTURES, 'shared', 'items.controller.ts'), join(dir, 'src', 'items.controller.ts'));
  if (!existsSync(join(dir, 'src', 'loaded.controller.ts'))) {
    cpSync(join(FIXTURES, 'shared', 'loaded.controller.ts'), join(dir, 'src', 'loaded.controller.ts'));
  }
  const manifestPath = join(dir, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { dependencies: Record<string, string> };
  manifest.dependencies['nestjs-response-cache'] = `file:${tarball}`;
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  await npm(dir, ['install', '--prefer-offline']);
  await run(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: dir });
  return {
    dir,
    has: (pkg) => {
      try {
        readFileSync(join(dir, 'node_modules', pkg, 'package.json'));
        return true;
      } catch {
        return false;
      }
    },
    start: (env = {}) => startFixture(dir, env),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Starts the built fixture as a user would (`node dist/main.js`), on a free port. */
function startFixture(dir: string, env: Record<string, string>): Promise<RunningFixture> {
  const child: ChildProcess = spawn(process.execPath, ['--require', './track-loads.cjs', 'dist/main.js'], {
    cwd: dir,
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fixture did not start within 20 s:\n${output}`)), 20_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening (http:\/\/\S+)/.exec(output);
      if (match === null) return;
      clearTimeout(timer);
      resolve({
        url: match[1].replace('[::1]', '127.0.0.1'),
        output: () => output,
        stop: async () => {
          child.kill('SIGTERM');
          await exited;
        },
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fixture exited with ${code}:\n${output}`));
    });
  });
}
