import { OutboxError } from '../errors.js';
import type { StorageAdapter } from './storage.js';
import { createStore, promisifyRequest, type UseStore } from 'idb-keyval';

/** Options of {@link createIndexedDbStorage}. */
export interface IndexedDbStorageOptions {
  /**
   * The tracker name. The database is `outbox:<name>`, a name no page is likely to use itself:
   * opening someone else's database would mean writing into their store.
   * @default 'outbox'
   */
  name?: string;
  /** An operation (opening the database included) that takes longer fails. @default 5000 */
  timeoutMs?: number;
}

// Connections the browser closed or broke (Safari closes them in background tabs, Expensify#87864;
// Chromium's backing store can report UnknownError) are worth one reopen. A transaction aborted by a
// closing connection applied nothing, so running it again is safe.
const reopenable = new Set(['InvalidStateError', 'UnknownError', 'AbortError', 'TransactionInactiveError']);
const probeKey = 'probe';

/**
 * A storage adapter on IndexedDB through idb-keyval, with its own database. What idb-keyval alone
 * does not survive is handled here: a failed or hung `open()` (the store is recreated), closed
 * connections (reopened once, then the operation runs again), other tabs upgrading or deleting the
 * database (our connection closes instead of blocking them). `apply()` is one transaction. After
 * every write, other tabs hear of it through `watch()` (a BroadcastChannel per database).
 */
export function createIndexedDbStorage(options: IndexedDbStorageOptions = {}): StorageAdapter {
  return connect(options)[0];
}

/**
 * Opens IndexedDB and checks that it takes a write, within `timeoutMs`. Rejects when it is
 * missing, blocked or refuses writes (private modes, disabled storage): callers keep events in
 * memory instead. Browsers get this as their default storage.
 */
export async function openIndexedDbStorage(options: IndexedDbStorageOptions = {}): Promise<StorageAdapter> {
  const [storage, write] = connect(options);
  await write((store) => {
    store.put('', probeKey);
    store.delete(probeKey);
  }, false);
  return storage;
}

// The adapter, and its write (which the probe uses with no change to announce).
function connect(options: IndexedDbStorageOptions): readonly [StorageAdapter, (work: (store: IDBObjectStore) => void, changed: boolean) => Promise<void>] {
  const database = `outbox:${options.name ?? 'outbox'}`;
  const timeoutMs = options.timeoutMs ?? 5000;
  const listeners = new Set<() => void>();
  let store: UseStore | undefined;
  let connection: IDBDatabase | undefined;
  let channel: BroadcastChannel | undefined;

  // Forgets the connection; the next operation opens a new one through a new idb-keyval store.
  function reopen(): void {
    connection?.close();
    connection = undefined;
    store = undefined;
  }

  function adopt(db: IDBDatabase): void {
    if (db === connection) return;
    connection = db;
    // Another tab (or a newer version of this library) wants to upgrade or delete the database:
    // close rather than block it; the next operation reopens.
    db.onversionchange = () => {
      db.close();
      if (connection === db) reopen();
    };
  }

  function attempt<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => T | PromiseLike<T>): Promise<T> {
    const current = (store ??= createStore(database, 'kv'));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (store === current) reopen();
        reject(new OutboxError('storage', `IndexedDB "${database}" did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      // `indexedDB` may be missing or throw on access (sandboxed frames, disabled storage): the
      // store function then throws synchronously, and this promise rejects with it.
      Promise.resolve()
        .then(() => current(mode, (objectStore) => (adopt(objectStore.transaction.db), work(objectStore))))
        .finally(() => clearTimeout(timer))
        .then(resolve, reject);
    });
  }

  async function run<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => T | PromiseLike<T>): Promise<T> {
    try {
      return await attempt(mode, work);
    } catch (error) {
      if (!reopenable.has((error as Error | undefined)?.name ?? '')) throw error;
      reopen();
      return attempt(mode, work);
    }
  }

  function broadcast(): BroadcastChannel | undefined {
    if (!channel && typeof BroadcastChannel === 'function') {
      channel = new BroadcastChannel(database);
      // A channel never receives its own messages, so listeners hear other tabs only.
      channel.onmessage = () => listeners.forEach((listener) => listener());
      // Node keeps the process alive for an open channel; a tracker must not.
      (channel as { unref?: () => void }).unref?.();
    }
    return channel;
  }

  async function write(work: (store: IDBObjectStore) => void, changed: boolean): Promise<void> {
    await run('readwrite', (objectStore) => {
      work(objectStore);
      const done = promisifyRequest(objectStore.transaction);
      // Commit now rather than after another round trip to this page: the tick is stored sooner,
      // which narrows what a crash or an unload can catch unwritten.
      objectStore.transaction.commit?.();
      return done;
    });
    if (changed) broadcast()?.postMessage(0);
  }

  const storage: StorageAdapter = {
    get: (key) => run('readonly', (objectStore) => promisifyRequest(objectStore.get(key) as IDBRequest<string | undefined>)),
    set: (key, value) => write((objectStore) => objectStore.put(value, key), true),
    delete: (key) => write((objectStore) => objectStore.delete(key), false),
    async keys(prefix) {
      const range = prefix ? IDBKeyRange.bound(prefix, `${prefix}\uffff`) : undefined;
      const keys = await run('readonly', (objectStore) => promisifyRequest(objectStore.getAllKeys(range)));
      // Every key in the range starts with the prefix (IndexedDB compares strings by code unit);
      // without one, keys another library stored may be numbers or dates.
      return keys.filter((key): key is string => typeof key === 'string');
    },
    apply: (sets, deletes) =>
      write((objectStore) => {
        for (const [key, value] of sets) objectStore.put(value, key);
        for (const key of deletes) objectStore.delete(key);
      }, sets.length > 0),
    watch(listener) {
      listeners.add(listener);
      broadcast();
      return () => void listeners.delete(listener);
    },
  };
  return [storage, write];
}
