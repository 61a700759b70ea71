import type { Cluster } from 'ioredis';
import type { RedisClient } from './redis-client';

/** Redirects one write follows: a failover moves a slot once; more means the slot map is in flux (the write fails and is replayed). */
const MAX_REDIRECTS = 3;

function isCluster(client: RedisClient): client is Cluster {
  return (client as { isCluster?: boolean }).isCluster === true;
}

/** The node a `MOVED <slot> <host>:<port>` reply names, if `error` is one. */
export function movedTo(error: unknown): { host: string; port: number } | undefined {
  if (!(error instanceof Error)) return undefined;
  const match = /^MOVED \d+ (.+):(\d+)$/.exec(error.message);
  return match === null ? undefined : { host: match[1], port: Number(match[2]) };
}

/**
 * A slot moved (a failover, a resharding): ioredis follows the redirect of a command sent alone,
 * but not one in an auto-pipeline whose commands were redirected for different slots (after a
 * failover, all of a shard's are): each fails with the raw `MOVED` reply, and the client keeps
 * routing the shard's slots to the old node. Refreshes the client's slot map when `error` is such
 * a reply; returns `error` (to rethrow).
 */
export function noteRedirect(client: RedisClient, error: unknown): unknown {
  if (isCluster(client) && movedTo(error) !== undefined) client.refreshSlotsCache();
  return error;
}

/** `work`, refreshing the Cluster slot map when it failed on a redirect ({@link noteRedirect}). */
export function redirected<T>(client: RedisClient, work: Promise<T>): Promise<T> {
  return work.catch((error: unknown) => {
    throw noteRedirect(client, error);
  });
}

function refreshed(cluster: Cluster): Promise<void> {
  return new Promise((resolve) => cluster.refreshSlotsCache(() => resolve()));
}

/**
 * Runs a write that must land on its slot's master before it counts (an invalidation): `send`
 * gets the client to send it on, the Cluster client first. When the answer is a `MOVED` that
 * ioredis did not follow ({@link noteRedirect}), the write is sent again to the node the reply
 * names (the Cluster client's own connection to it), or, for a node the client does not know,
 * through the Cluster client once its slot map is refreshed; up to {@link MAX_REDIRECTS} times.
 * A node that is not the slot's master answers `MOVED` too, so the write never lands elsewhere.
 */
export async function onSlotMaster<T>(client: RedisClient, send: (target: RedisClient) => Promise<T>): Promise<T> {
  let target: RedisClient = client;
  for (let redirects = 0; ; redirects++) {
    try {
      return await send(target);
    } catch (error) {
      const moved = movedTo(error);
      if (moved === undefined || !isCluster(client) || redirects === MAX_REDIRECTS) throw error;
      const node = client.nodes('all').find((n) => n.options.host === moved.host && n.options.port === moved.port);
      if (node === undefined) await refreshed(client);
      else client.refreshSlotsCache();
      target = node ?? client;
    }
  }
}
