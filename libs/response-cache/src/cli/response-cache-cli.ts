import { adminApi } from './admin-client';
import { CliError, EXIT, USAGE, parseCommandLine } from './cli-args';
import { COMMAND_RUNS } from './cli-commands';

export { EXIT, USAGE } from './cli-args';

/** Where the CLI writes; a test passes its own. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Runs the CLI; returns the exit code (the bin calls process.exit with it). */
export async function runCli(argv: readonly string[], env: Record<string, string | undefined>, io: CliIo): Promise<number> {
  try {
    const { command, args, values } = parseCommandLine(argv);
    if (command === 'help') {
      io.stdout(USAGE);
      return EXIT.ok;
    }
    const print = (json: unknown, human: string) => io.stdout(values.json ? `${JSON.stringify(json, null, 2)}\n` : `${human}\n`);
    return await COMMAND_RUNS[command]({ api: adminApi(values, env), args, values, print, stderr: (text) => io.stderr(text) });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`nestjs-response-cache: ${message}\n`);
    return error instanceof CliError ? error.code : EXIT.failed;
  }
}
