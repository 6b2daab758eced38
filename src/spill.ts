import { cutBySize } from './cut-by-size.js';
import { OutboxError, type OutboxEventRecord } from './errors.js';
import { randomId, utf8Length } from './event.js';
import type { StorageAdapter } from './storage/storage.js';
import { decodeQueueMessage, type DecodedEvent } from './transport/queues.js';

/**
 * The key prefix of spilled chunks (`c:<time>:<random>`), each a JSON array of wire records. It is
 * a stored format of its own: KV spills written by an earlier deploy must stay readable.
 */
export const spillPrefix = 'c:';

/** A spilled chunk is cut at this size, so a drain that stops half-way re-sends at most this much. */
export const maxSpillChunkBytes = 1024 * 1024;

/** Cuts records into chunks of at most {@link maxSpillChunkBytes} (a larger record goes alone), in order. Pure. */
export function cutSpillChunks(records: readonly OutboxEventRecord[], maxBytes = maxSpillChunkBytes): OutboxEventRecord[][] {
  return cutBySize(records, (record) => utf8Length(JSON.stringify(record)), { maxBytes, maxCount: Infinity });
}

/** What {@link spillRecords} did: events written to the spill, and events lost (each reported). */
export interface SpillResult {
  spilled: number;
  lost: number;
}

/**
 * Writes records to `spill` in chunks, each under a new key, never rewritten (KV takes about one
 * write per second per key). A chunk that cannot be written is reported, with its events, as lost.
 */
export async function spillRecords(
  spill: StorageAdapter | undefined,
  records: readonly OutboxEventRecord[],
  now: () => number,
  report: (error: OutboxError) => void,
): Promise<SpillResult> {
  let spilled = 0;
  let lost = 0;
  for (const chunk of cutSpillChunks(records)) {
    try {
      if (!spill) throw new Error('no `spill` storage configured');
      await spill.set(`${spillPrefix}${now().toString(36).padStart(9, '0')}:${randomId(10)}`, JSON.stringify(chunk));
      spilled += chunk.length;
    } catch (error) {
      lost += chunk.length;
      report(new OutboxError('storage', `${chunk.length} events were not acknowledged in time and could not be spilled: they are lost`, { events: chunk, cause: error }));
    }
  }
  return { spilled, lost };
}

/** The events of a spilled chunk, as `send()` takes them; undefined when it is unreadable. */
export function parseSpillChunk(value: string): DecodedEvent[] | undefined {
  try {
    return decodeQueueMessage({ events: JSON.parse(value) });
  } catch {
    return undefined;
  }
}
