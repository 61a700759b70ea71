import { TagSnapshot, keyFenceTag } from '../store/cache-store';

/** The tags a fill of `key` is fenced by: its own tags and the key's fence tag. */
export function fenceTagsOf(key: string, tags: readonly string[]): string[] {
  return [...tags, keyFenceTag(key)];
}

/**
 * The fence of an entry stored under another key than its fill's: the tag versions read before
 * the handler ran, with the fill key's fence tag replaced by the new key's (`own`, read after the
 * handler). A key-level delete of the new key that landed before that read found nothing to
 * delete; one after it fails the fence.
 */
export function rekeyFence(fence: TagSnapshot, key: string, own: TagSnapshot): TagSnapshot {
  const old = keyFenceTag(key);
  const kept = fence.tags.map((tag, i) => [tag, fence.versions[i]] as const).filter(([tag]) => tag !== old);
  return { tags: [...kept.map(([tag]) => tag), ...own.tags], versions: [...kept.map(([, v]) => v), ...own.versions] };
}
