import { ResponseCacheError } from './response-cache.errors';

/** How a module name is resolved from this package's folder (a test passes its own). */
export type Resolve = (request: string) => string;

/**
 * Run by a subpath (`nestjs-response-cache/redis`, `/terminus`, `/prometheus`) before it loads
 * anything from its optional peers: when one is not installed, the import fails with a message
 * that names the subpath, the missing packages and the command that installs them, instead of
 * Node's bare "Cannot find module" with a require stack. Peers are resolved from this package's
 * folder, as the subpath's own imports would be; nothing is loaded here.
 */
export function requireOptionalPeers(subpath: string, peers: readonly string[], resolve: Resolve = require.resolve): void {
  const missing = peers.filter((peer) => !isInstalled(peer, resolve));
  if (missing.length === 0) return;
  const names = missing.length === 1 ? missing[0] : `${missing.slice(0, -1).join(', ')} and ${missing[missing.length - 1]}`;
  throw new ResponseCacheError(
    `nestjs-response-cache/${subpath} needs ${names}: npm i ${missing.join(' ')} ` +
      `(optional peer ${missing.length === 1 ? 'dependency' : 'dependencies'} of nestjs-response-cache, installed by apps that use /${subpath})`,
  );
}

function isInstalled(peer: string, resolve: Resolve): boolean {
  try {
    resolve(peer);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === 'MODULE_NOT_FOUND') return false;
    throw error;
  }
}
