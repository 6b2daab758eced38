import type { OutboxEventRecord } from './errors.js';
import type { StorageAdapter } from './storage/storage.js';

/**
 * The key prefix of the outbox's event chunks (`c:<time>:<writer>:<seq>`, outbox.ts), each a JSON
 * array of wire records. Written here once, for outbox.ts and for the readers outside the core.
 */
export const outboxChunkPrefix = 'c:';

/**
 * Every event record an outbox holds in `storage`, in arrival order (chunk keys sort by time):
 * the seam through which a Worker invocation learns what its tracker did not deliver, without
 * knowing how the core lays chunks out. A chunk that is not a JSON array is left out (the core
 * quarantines it and reports it itself).
 */
export async function readOutboxRecords(storage: StorageAdapter): Promise<OutboxEventRecord[]> {
  const records: OutboxEventRecord[] = [];
  for (const key of (await storage.keys(outboxChunkPrefix)).sort()) {
    const value = await storage.get(key);
    let chunk: unknown;
    try {
      chunk = value === undefined ? undefined : JSON.parse(value);
    } catch {
      continue; // torn: the core's quarantine deals with it
    }
    if (Array.isArray(chunk)) records.push(...(chunk as OutboxEventRecord[]));
  }
  return records;
}
