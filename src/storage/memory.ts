import type { StorageAdapter } from './storage.js';

/**
 * Storage in a `Map`: nothing survives the process, but the tracker behaves exactly as with a
 * durable adapter. Pass the same `map` to two trackers to share one outbox between them.
 */
export function createMemoryStorage(map: Map<string, string> = new Map()): StorageAdapter {
  return {
    get: async (key) => map.get(key),
    set: async (key, value) => void map.set(key, value),
    delete: async (key) => void map.delete(key),
    keys: async (prefix) => [...map.keys()].filter((key) => key.startsWith(prefix)),
  };
}
