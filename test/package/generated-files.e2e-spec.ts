import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const script = (name: string) => join(__dirname, '..', '..', 'scripts', name);

describe('files generated from the sources, checked in so that every change is a visible diff', () => {
  it('the public API report matches the built declarations (npm run api:report updates it when a change is intended)', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [script('api-report.mjs'), '--check']);
    expect(stdout).toMatch(/public API matches api-report\.md/);
  });

  it("the package's README is made from README.md (npm run docs:package updates it)", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [script('package-readme.mjs'), '--check']);
    expect(stdout).toMatch(/package README matches README\.md/);
  });

  it("the options tables of docs/decorators-and-options.md are made from the library's option tables (npm run docs:options updates it)", async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [script('options-doc.mjs'), '--check']);
    expect(stdout).toMatch(/options tables match the option tables/);
  });
});
