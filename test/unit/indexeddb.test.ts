// @vitest-environment happy-dom
// The IndexedDB adapter on fake-indexeddb: the shared contract, then what idb-keyval alone does
// not survive (pitfall 18 in research/peer-sdks.md): failed or hung opens, closed connections,
// other tabs upgrading the database, quota errors, IndexedDB missing.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTracker, type SendOutcome } from '../../src/index.js';
import { createIndexedDbStorage, openIndexedDbStorage } from '../../src/storage/indexeddb.js';
import { runStorageContract } from '../storage-contract.js';

let next = 0;
const fresh = () => `t${next++}`;

runStorageContract('indexeddb (fake-indexeddb)', () => createIndexedDbStorage({ name: fresh() }));

afterEach(() => {
  vi.restoreAllMocks();
});

/** Counts transactions by mode, and keeps the last connection used. */
function spyTransactions() {
  const modes: string[] = [];
  let db: IDBDatabase | undefined;
  const original = IDBDatabase.prototype.transaction;
  vi.spyOn(IDBDatabase.prototype, 'transaction').mockImplementation(function (this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
    modes.push(args[1] ?? 'readonly');
    db = this;
    return original.apply(this, args);
  });
  return { modes, db: () => db! };
}

const failingOpen = (name: string) => () => {
  throw new DOMException('injected', name);
};

describe('createIndexedDbStorage', () => {
  it('applies a tick of writes and deletes in one readwrite transaction', async () => {
    const storage = createIndexedDbStorage({ name: fresh() });
    await storage.set('c:old', 'x');
    const { modes } = spyTransactions();
    await storage.apply!([['c:1', 'a'], ['c:2', 'b'], ['l:x', '{}']], ['c:old']);
    expect(modes).toEqual(['readwrite']);
    expect((await storage.keys('c:')).sort()).toEqual(['c:1', 'c:2']);
  });

  it('lists keys by prefix (a key range), and every key for an empty prefix', async () => {
    const storage = createIndexedDbStorage({ name: fresh() });
    await storage.apply!([['c:1', 'a'], ['l:1', 'b'], ['rules', '[]'], ['c;', 'not a chunk']], []);
    expect(await storage.keys('c:')).toEqual(['c:1']);
    expect((await storage.keys('')).sort()).toEqual(['c:1', 'c;', 'l:1', 'rules']);
  });

  it('opens again after a failed open instead of caching the failure', async () => {
    const storage = createIndexedDbStorage({ name: fresh() });
    vi.spyOn(indexedDB, 'open').mockImplementationOnce(failingOpen('SecurityError'));
    await expect(storage.get('k')).rejects.toMatchObject({ name: 'SecurityError' });
    await storage.set('k', 'v');
    expect(await storage.get('k')).toBe('v');
  });

  it('reopens once and retries when the open fails with UnknownError', async () => {
    const storage = createIndexedDbStorage({ name: fresh() });
    const open = vi.spyOn(indexedDB, 'open').mockImplementationOnce(failingOpen('UnknownError'));
    await storage.set('k', 'v');
    expect(open).toHaveBeenCalledTimes(2);
    expect(await storage.get('k')).toBe('v');
  });

  it('reopens a connection the browser closed (InvalidStateError) and retries the operation', async () => {
    const storage = createIndexedDbStorage({ name: fresh() });
    const spy = spyTransactions();
    await storage.set('a', '1');
    spy.db().close(); // what Safari does to background tabs, without telling idb-keyval
    await storage.apply!([['b', '2']], []);
    expect(await storage.get('b')).toBe('2');
    expect(spy.db()).not.toBeUndefined();
  });

  it('closes for another connection that upgrades the database rather than blocking it', async () => {
    const name = fresh();
    const storage = createIndexedDbStorage({ name });
    await storage.set('a', '1');
    const upgraded = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(`outbox:${name}`, 2);
      request.onblocked = () => reject(new Error('blocked by the adapter'));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    upgraded.close();
    expect(await storage.get('a')).toBe('1');
  });

  it('gives up on an open that never answers, within timeoutMs, and opens afresh next time', async () => {
    const storage = createIndexedDbStorage({ name: fresh(), timeoutMs: 50 });
    vi.spyOn(indexedDB, 'open').mockImplementationOnce(() => ({}) as IDBOpenDBRequest);
    await expect(storage.get('k')).rejects.toMatchObject({ name: 'OutboxError', code: 'storage' });
    await storage.set('k', 'v');
    expect(await storage.get('k')).toBe('v');
  });

  it('rejects a quota error without retrying it, and stays usable', async () => {
    const storage = createIndexedDbStorage({ name: fresh() });
    await storage.set('a', '1');
    const put = vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementationOnce(() => {
      throw new DOMException('full', 'QuotaExceededError');
    });
    await expect(storage.apply!([['b', '2']], [])).rejects.toMatchObject({ name: 'QuotaExceededError' });
    expect(put).toHaveBeenCalledTimes(1);
    await storage.apply!([['b', '2']], []);
    expect(await storage.get('b')).toBe('2');
  });

  it('tells other adapters on the same database about writes, not itself', async () => {
    const name = fresh();
    const [a, b] = [createIndexedDbStorage({ name }), createIndexedDbStorage({ name })];
    const heard = { a: 0, b: 0 };
    const stops = [a.watch!(() => heard.a++), b.watch!(() => heard.b++)];
    await a.apply!([['c:1', '[]']], []);
    await vi.waitFor(() => expect(heard.b).toBe(1));
    await a.delete('c:1'); // deletes add nothing to read: no nudge
    await b.set('c:2', '[]');
    await vi.waitFor(() => expect(heard.a).toBe(1));
    expect(heard.b).toBe(1);
    stops.forEach((stop) => stop());
  });
});

describe('openIndexedDbStorage', () => {
  it('resolves with a working adapter when IndexedDB takes a write', async () => {
    const storage = await openIndexedDbStorage({ name: fresh() });
    await storage.set('k', 'v');
    expect(await storage.keys('')).toEqual(['k']); // the probe left nothing behind
  });

  it('rejects when IndexedDB is missing', async () => {
    vi.stubGlobal('indexedDB', undefined);
    try {
      await expect(openIndexedDbStorage({ name: fresh() })).rejects.toBeInstanceOf(Error);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('rejects when every open fails (a private mode that refuses IndexedDB)', async () => {
    vi.spyOn(indexedDB, 'open').mockImplementation(failingOpen('InvalidStateError'));
    await expect(openIndexedDbStorage({ name: fresh() })).rejects.toMatchObject({ name: 'InvalidStateError' });
  });

  it('rejects when writes fail although reads work', async () => {
    vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('no space in private mode', 'QuotaExceededError');
    });
    await expect(openIndexedDbStorage({ name: fresh() })).rejects.toMatchObject({ name: 'QuotaExceededError' });
  });
});

describe('a tracker on IndexedDB', () => {
  it('writes the events of one tick in one transaction, and deletes them only once acknowledged', async () => {
    const name = fresh();
    const reader = createIndexedDbStorage({ name });
    let acknowledge!: (outcome: SendOutcome) => void;
    const transport = { send: () => new Promise<SendOutcome>((resolve) => (acknowledge = resolve)) };
    const tracker = createTracker({ endpoint: 'http://127.0.0.1:9/unused', name, transport, unload: false, coordinateTabs: false, flushIntervalMs: 60_000, maxBatchEvents: 1000 });
    tracker.track('warm-up'); // storage opens lazily: wait until it is in use
    await vi.waitFor(async () => expect(await reader.keys('c:')).toHaveLength(1));
    const spy = spyTransactions();
    for (let i = 0; i < 100; i++) tracker.track('tick', { i }, { id: `e${i}` });
    await new Promise((resolve) => setTimeout(resolve, 0)); // one task later: the write is under way
    expect(spy.modes).toEqual(['readwrite']);
    await vi.waitFor(async () => expect(await reader.keys('c:')).toHaveLength(2));
    expect(spy.modes.filter((mode) => mode === 'readwrite')).toHaveLength(1); // the reader's reads aside
    const stored = async () => {
      const chunks = await Promise.all((await reader.keys('c:')).map((key) => reader.get(key)));
      return chunks.flatMap((chunk) => (JSON.parse(chunk!) as { id: string }[]).map((event) => event.id));
    };
    expect(await stored()).toHaveLength(101);

    const flushed = tracker.flush(5000);
    await vi.waitFor(async () => expect(await reader.keys('l:')).toHaveLength(1)); // leased, in flight
    expect(await stored()).toHaveLength(101); // nothing deleted before the acknowledgement
    acknowledge({ kind: 'ok' });
    expect(await flushed).toBe(true);
    await vi.waitFor(async () => expect(await reader.keys('')).toEqual([])); // chunk and lease gone
    await tracker.close(100);
  });
});
