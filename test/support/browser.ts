import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, chromium } from 'playwright-core';

/** Where the browser tests put their screenshots (gitignored; CI may keep it as an artifact). */
export const ARTIFACTS_DIR = join(__dirname, '..', '..', 'test-artifacts');

export function chromiumBin(): string {
  const bin = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
  if (!existsSync(bin)) {
    throw new Error(
      `Chromium not found at ${bin}. Install Debian's package (apt-get install chromium; scripts/test-deps.sh does it, and npm test runs it first), or set CHROMIUM_BIN to a Chromium or Chrome binary.`,
    );
  }
  return bin;
}

/** Headless Chromium (Playwright gives it a fresh profile) with no background traffic: this machine's network is closed. */
export async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: chromiumBin(),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return browser;
}
