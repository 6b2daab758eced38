import type { StorageAdapter } from './storage.js';
import { createStore, get, set, del, keys } from 'idb-keyval';

/** Options of {@link createIndexedDbStorage}. */
export interface IndexedDbStorageOptions {
  /** Database name; one database per tracker name. @default 'outbox' */
  name?: string;
}

/** IndexedDB storage through idb-keyval (issue 3 hardens it: reopen, quota, fallback, one transaction per tick). */
export function createIndexedDbStorage(options: IndexedDbStorageOptions = {}): StorageAdapter {
  const store = createStore(options.name ?? 'outbox', 'outbox');
  return {
    get: (key) => get<string>(key, store),
    set: (key, value) => set(key, value, store),
    delete: (key) => del(key, store),
    keys: async (prefix) => (await keys<string>(store)).filter((key) => key.startsWith(prefix)),
  };
}
