// Regression (found by the fixed-seed simulation once the outbox's full read changed its course):
// a new sender settles the leases a receipt answered in one write. On an adapter without apply()
// that write is one call per key: a delete that rejected later was orphaned when a call after it
// threw synchronously (no Promise.all ever saw it), an unhandled rejection in the host page.
import { expect, it } from 'vitest';
import type { OutboxError } from '../../src/errors.js';
import type { TrackerCore } from '../../src/integration.js';
import { followReceipts, type FoundLease } from '../../src/platform/lease-receipts.js';
import { createMemoryStorage } from '../../src/storage/memory.js';
import type { StorageAdapter } from '../../src/storage/storage.js';
import { createTrackerOn } from '../../src/tracker.js';

it('a settle write whose first delete rejects and whose next one throws synchronously is reported, not an unhandled rejection', async () => {
  const map = new Map<string, string>();
  const inner = createMemoryStorage(map);
  let deletes = 0;
  let rejected!: () => void;
  const firstRejected = new Promise<void>((resolve) => (rejected = resolve));
  // No apply(): the first delete rejects after a turn, the second throws synchronously.
  const storage: StorageAdapter = {
    get: inner.get,
    set: inner.set,
    keys: inner.keys,
    delete(key) {
      if (++deletes > 1) throw new Error(`delete ${key} threw`);
      return new Promise((_, reject) => setTimeout(() => (reject(new Error(`delete ${key} failed`)), rejected()), 5));
    },
  };
  const rid = 'r1';
  // The collector's receipt: request r1 arrived.
  const fetch = async () => new Response(JSON.stringify({ rid, received: true }), { status: 200 });
  let core!: TrackerCore;
  const errors: OutboxError[] = [];
  const tracker = createTrackerOn(
    { integrations: [(c) => void (core = c)] },
    { endpoint: 'http://collector.test/v1/batch', storage, fetch, flushIntervalMs: 3_600_000, onError: (e) => errors.push(e) },
  );
  await core.ready;
  map.set('c:000000001:dead:000000', '[{"id":"a","name":"n","timestamp":1}]');
  map.set(`l:${rid}`, JSON.stringify({ until: Date.now() + 20_000, ids: ['a'], at: 1 }));
  const lease: FoundLease = { rid, ids: ['a'], until: Date.now() + 20_000, stream: '', at: 1 };

  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  const saved = process.listeners('unhandledRejection');
  process.removeAllListeners('unhandledRejection');
  process.on('unhandledRejection', onUnhandled);
  try {
    const stop = followReceipts(core, [lease], () => undefined);
    await firstRejected;
    // Two more turns: an unhandled rejection is reported once the microtasks after it ran.
    for (let i = 0; i < 2; i++) await new Promise((resolve) => setTimeout(resolve, 0));
    stop();
  } finally {
    process.removeListener('unhandledRejection', onUnhandled);
    for (const listener of saved) process.on('unhandledRejection', listener);
  }
  expect(deletes).toBe(2); // the lease and the chunk, one call each
  expect(unhandled).toEqual([]);
  expect(errors.map((e) => [e.code, e.message])).toEqual([['storage', '[outbox] settling leases failed; they expire as usual']]);
  await tracker.close(0);
});
