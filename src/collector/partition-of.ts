const encoder = new TextEncoder();

/**
 * FNV-1a, 32 bit, over the UTF-8 bytes of `text`: tiny, stable across runtimes and deploys, and
 * the same hash the reference collector uses, so a consumer can tell where a source lands.
 */
export function fnv1a32(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * The partition of a source: all events of one `sourceId` go to one partition, in order
 * (Samsara's rule). Events without a `sourceId` share the partition of the empty string.
 */
export function partitionOf(sourceId: string | undefined, partitionCount: number): number {
  return fnv1a32(sourceId ?? '') % partitionCount;
}
