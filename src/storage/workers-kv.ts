import { OutboxError } from '../errors.js';
import { utf8Length } from '../event.js';
import type { StorageAdapter } from './storage.js';

/**
 * The part of a Workers KV namespace binding the adapter uses. A `KVNamespace` from
 * `@cloudflare/workers-types` (or `wrangler types`) fits it; declaring only what we call keeps
 * the published types free of a dependency on the Workers type package.
 */
export interface KvNamespaceLike {
  get(key: string, type: 'text'): Promise<string | null>;
  put(key: string, value: string, options?: { expirationTtl?: number }): Promise<void>;
  delete(key: string): Promise<void>;
  list(options?: { prefix?: string | null; cursor?: string | null }): Promise<{ keys: { name: string }[]; list_complete: boolean; cursor?: string }>;
}

/** Options of {@link createWorkersKvStorage}. */
export interface WorkersKvStorageOptions {
  /**
   * Prepended to every key, so one namespace can hold several outboxes next to other data.
   * @default 'outbox:'
   */
  prefix?: string;
  /**
   * Every key expires this long after its last write (KV's `expirationTtl`, at least 60 s), so
   * an outbox nobody drains (a deleted Worker, a wrong endpoint) cannot grow forever. Events
   * still stored when it passes are gone: keep it longer than your longest collector outage.
   * @default 604800000 (7 days)
   */
  ttlMs?: number;
}

/** KV's documented limits (developers.cloudflare.com/kv/platform/limits); local KV enforces them too. */
export const workersKvLimits = {
  maxKeyBytes: 512,
  maxValueBytes: 25 * 1024 ** 2,
  minTtlMs: 60_000,
} as const;

const defaults = { prefix: 'outbox:', ttlMs: 7 * 24 * 60 * 60 * 1000 } as const;

/**
 * Storage in a Workers KV namespace, for the spill-over of `outbox/worker` (see docs/workers.md).
 *
 * KV suits values written once and read later: it is eventually consistent (another location may
 * not see a write, or a delete, for about 60 s) and takes about one write per second per key. The
 * spill-over therefore writes one new key per chunk and never rewrites one, and a chunk read
 * twice is sent twice: the collector removes the duplicate by event id. Not suited to be a live
 * tracker's `storage`: the core writes a lease key per request and one shared `rules` key.
 */
export function createWorkersKvStorage(namespace: KvNamespaceLike, options: WorkersKvStorageOptions = {}): StorageAdapter {
  const prefix = options.prefix ?? defaults.prefix;
  const ttlMs = options.ttlMs ?? defaults.ttlMs;
  if (!namespace || typeof namespace.list !== 'function') throw new TypeError('[outbox] createWorkersKvStorage needs a KV namespace binding (env.YOUR_KV)');
  if (!(ttlMs >= workersKvLimits.minTtlMs)) throw new RangeError(`[outbox] ttlMs must be at least ${workersKvLimits.minTtlMs} (KV's minimum expirationTtl), got ${String(ttlMs)}`);
  const expirationTtl = Math.ceil(ttlMs / 1000);

  function fullKey(key: string): string {
    const full = prefix + key;
    // Checked here so the error names the key; KV's own message does not.
    if (utf8Length(full) > workersKvLimits.maxKeyBytes) throw new OutboxError('storage', `KV key "${full.slice(0, 60)}…" is over ${workersKvLimits.maxKeyBytes} bytes`);
    return full;
  }

  return {
    async get(key) {
      return (await namespace.get(fullKey(key), 'text')) ?? undefined;
    },
    async set(key, value) {
      const bytes = utf8Length(value);
      if (bytes > workersKvLimits.maxValueBytes) throw new OutboxError('storage', `KV value of "${prefix + key}" is ${bytes} bytes, over ${workersKvLimits.maxValueBytes}`);
      await namespace.put(fullKey(key), value, { expirationTtl });
    },
    async delete(key) {
      await namespace.delete(fullKey(key));
    },
    async keys(keyPrefix) {
      // list() returns at most 1000 keys a page; follow the cursor to the end.
      const keys: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await namespace.list({ prefix: fullKey(keyPrefix), cursor: cursor ?? null });
        for (const { name } of page.keys) keys.push(name.slice(prefix.length));
        cursor = page.list_complete ? undefined : page.cursor;
      } while (cursor);
      return keys;
    },
  };
}
