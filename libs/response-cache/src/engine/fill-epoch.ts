import type { CacheStore, TagSnapshot } from '../store/cache-store';

/**
 * The invalidation epoch: a tag that every tag invalidation bumps *before* the tags it names.
 * It starts with a control character, which user tags may not contain, so it cannot collide.
 *
 * It is what makes tags learned from a handler's result (`resultTags`) race-safe. A fill cannot
 * snapshot the versions of tags it does not know yet, so it reads the epoch before the handler
 * runs (`e0`), and after the handler it reads the result tags' versions and then the epoch again
 * (`e1`). The entry is stored, fenced by those versions, only when `e1 === e0`. Why that is safe,
 * for a write W that commits its data and then invalidates a result tag t (epoch bump, then t):
 * - W's epoch bump lands before `e0` was read: its data was committed before the handler ran, so
 *   the handler read the new data;
 * - it lands between the reads of `e0` and `e1`: `e1 !== e0`, nothing is stored;
 * - it lands after `e1` was read: W's bump of t comes after it, so after the read of t's version
 *   (which preceded `e1`); the entry is fenced by t's old version, and the store refuses it or
 *   never serves it once t is bumped.
 * The price: a fill with result tags is not stored when any invalidation lands while it runs.
 */
export const EPOCH_TAG = '\u0001epoch';

/** Invalidates `tags`: the epoch first, then the tags (the order the argument above needs). */
export async function invalidateInOrder(store: CacheStore, tags: readonly string[]): Promise<void> {
  await store.invalidateTags([EPOCH_TAG]);
  await store.invalidateTags(tags);
}

/** The epoch's version as a fill reads it before its handler runs; undefined when the store failed (reported). */
export async function readEpoch(store: CacheStore, report: (error: unknown) => void): Promise<number | undefined> {
  try {
    return await epochOf(store);
  } catch (error) {
    report(error);
    return undefined;
  }
}

/**
 * The fence read before the handler (`before`), extended by the result's tags; undefined (not
 * stored) when it cannot be: the epoch moved or was not read, or the store failed (reported).
 */
export async function extendFence(
  store: CacheStore,
  report: (error: unknown) => void,
  before: TagSnapshot | undefined,
  epoch: number | undefined,
  resultTags: readonly string[] = [],
): Promise<TagSnapshot | undefined> {
  if (before === undefined || resultTags.length === 0) return before;
  if (epoch === undefined) return undefined;
  try {
    return await resultFence(store, before, epoch, resultTags);
  } catch (error) {
    report(error);
    return undefined;
  }
}

async function epochOf(store: CacheStore): Promise<number> {
  const snapshot = await store.snapshot([EPOCH_TAG]);
  return snapshot.versions[snapshot.tags.indexOf(EPOCH_TAG)];
}

/**
 * The fence of an entry whose handler named `resultTags`: `fence` (read before the handler) plus
 * the result tags' versions, read now, then the epoch; undefined (not stored) when the epoch
 * moved since `epoch` was read, i.e. some invalidation landed while the handler ran.
 */
async function resultFence(
  store: CacheStore,
  fence: TagSnapshot,
  epoch: number,
  resultTags: readonly string[],
): Promise<TagSnapshot | undefined> {
  const added = resultTags.filter((tag) => !fence.tags.includes(tag));
  if (added.length === 0) return fence; // all read before the handler ran: the fence covers them
  const read = await store.snapshot(added); // first the tags ...
  if ((await epochOf(store)) !== epoch) return undefined; // ... then the epoch: the order matters
  return { tags: [...fence.tags, ...read.tags], versions: [...fence.versions, ...read.versions] };
}
