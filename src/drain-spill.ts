import { OutboxError } from './errors.js';
import { serverPlatform } from './integration.js';
import { createReporter } from './reporter.js';
import { parseSpillChunk, spillPrefix } from './spill.js';
import type { StorageAdapter } from './storage/storage.js';
import { createTrackerOn } from './tracker.js';
import { workerDefaults, type InvocationTrackerOptions } from './worker-options.js';

/**
 * Sends chunks spilled by earlier invocations, oldest first, and deletes each one only once all
 * its events were acknowledged (or dropped for a counted reason); stops at the first chunk that
 * does not go through, or after `flushTimeoutMs`. Resolves with the events delivered.
 * `withTracker` calls it; call it yourself from a handler it does not wrap.
 *
 * KV is eventually consistent: a chunk another location deleted a moment ago may still be listed
 * here and sent again. The collector removes such duplicates by event id; nothing is lost.
 */
export async function drainSpill(options: InvocationTrackerOptions & { spill: StorageAdapter }): Promise<number> {
  const { spill, flushTimeoutMs = workerDefaults.flushTimeoutMs, maxDrainChunks = workerDefaults.maxDrainChunks, drain: _drain, ...trackerOptions } = options;
  const now = trackerOptions.now ?? Date.now;
  const deadline = now() + flushTimeoutMs;
  // KV lists keys in order, and the keys start with their time: the first ones are the oldest.
  const keys = (await spill.keys(spillPrefix)).sort().slice(0, maxDrainChunks);
  if (!keys.length) return 0;
  // Memory only: the KV chunk stays the durable copy until its events are acknowledged.
  const drainer = createTrackerOn(serverPlatform, { ...trackerOptions, storage: false });
  let drained = 0;
  try {
    for (const key of keys) {
      const left = deadline - now();
      if (left <= 0) break;
      const value = await spill.get(key);
      if (value === undefined) continue; // another invocation drained it meanwhile
      const events = parseSpillChunk(value);
      if (!events) {
        createReporter(trackerOptions.onError)(new OutboxError('storage', `spilled chunk "${key}" is unreadable; deleting it`));
        await spill.delete(key);
        continue;
      }
      const result = await drainer.send(events, left);
      if (result.pending) break; // the collector fails again: the chunk waits for a later drain
      await spill.delete(key);
      drained += result.sent;
    }
  } finally {
    await drainer.close(0); // stops its retry timer: nothing may wait for a later tick
  }
  return drained;
}
