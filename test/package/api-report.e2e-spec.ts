import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

describe('the public API report', () => {
  it('matches the built declarations (npm run api:report updates it when a change is intended)', async () => {
    const script = join(__dirname, '..', '..', 'scripts', 'api-report.mjs');
    const { stdout } = await promisify(execFile)(process.execPath, [script, '--check']);
    expect(stdout).toMatch(/public API matches api-report\.md/);
  });
});
