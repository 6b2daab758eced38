// @vitest-environment happy-dom
// Tab coordination with trackers that share one (fake) IndexedDB in one page, the way tabs share
// it in a browser: Web Locks elect one sender (a small in-process LockManager stands in for
// navigator.locks, which happy-dom lacks), the storage's watch() nudges it, acknowledgements go
// back over BroadcastChannel. The same scenarios run in real Chromium in test/browser/durability*.
import 'fake-indexeddb/auto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTracker, type OutboxError, type SendOutcome, type Tracker, type TrackerOptions, type WireBatch } from '../../src/index.js';
import { createIndexedDbStorage } from '../../src/storage/indexeddb.js';
import type { StorageAdapter } from '../../src/storage/storage.js';

let next = 0;
const trackers: Tracker[] = [];

afterEach(async () => {
  await Promise.all(trackers.splice(0).map((tracker) => tracker.close(50)));
  Object.defineProperty(navigator, 'locks', { configurable: true, value: null });
  vi.restoreAllMocks();
});

/** A FIFO LockManager: what the tests need of navigator.locks (request with a signal, exclusive). */
function installLocks() {
  const holders = new Map<string, number>();
  const queues = new Map<string, (() => void)[]>();
  let ids = 0;
  const grantNext = (name: string) => {
    holders.delete(name);
    queues.get(name)?.shift()?.();
  };
  const locks = {
    request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<unknown>) {
      return new Promise((resolve, reject) => {
        const id = ++ids;
        const start = () => {
          holders.set(name, id);
          callback().then(resolve, reject).finally(() => grantNext(name));
        };
        const queue = queues.get(name) ?? [];
        queues.set(name, queue);
        if (!holders.has(name)) return start();
        queue.push(start);
        options.signal?.addEventListener('abort', () => {
          const index = queue.indexOf(start);
          if (index >= 0) queue.splice(index, 1);
          reject(new DOMException('aborted', 'AbortError'));
        });
      });
    },
  };
  Object.defineProperty(navigator, 'locks', { configurable: true, value: locks });
  return { held: (name: string) => holders.has(name) };
}

/** A transport that records the ids it was given and acknowledges them, or never answers. */
function recorder(answer: 'ack' | 'hang' = 'ack') {
  const ids: string[] = [];
  const send = (batch: WireBatch): Promise<SendOutcome> => {
    for (const event of batch.events) ids.push((JSON.parse(event.json) as { id: string }).id);
    return answer === 'ack' ? Promise.resolve({ kind: 'ok' }) : new Promise(() => undefined);
  };
  return { ids, transport: { send } };
}

function tab(name: string, options: Partial<TrackerOptions> = {}) {
  const errors: OutboxError[] = [];
  const log = recorder();
  const tracker = createTracker({
    endpoint: 'http://127.0.0.1:9/unused',
    name,
    transport: log.transport,
    unload: false,
    flushIntervalMs: 10,
    onError: (error) => errors.push(error),
    ...options,
  });
  trackers.push(tracker);
  return { tracker, sent: log.ids, errors };
}

const track = (tracker: Tracker, prefix: string, count: number) => {
  for (let i = 0; i < count; i++) tracker.track('e', { i }, { id: `${prefix}${i}` });
};
const range = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i}`);
const sorted = (ids: readonly string[]) => [...ids].sort();
const storedKeys = (name: string, prefix: string) => createIndexedDbStorage({ name }).keys(prefix);

describe('tab coordination with Web Locks', () => {
  it('lets one tab send for all: the others append, nudge it, and drop their copies once acknowledged', async () => {
    const name = `tabs${next++}`;
    const locks = installLocks();
    const a = tab(name);
    await vi.waitFor(() => expect(locks.held(`outbox:${name}:sender`)).toBe(true));
    const b = tab(name);
    track(b.tracker, 'b', 50);
    track(a.tracker, 'a', 50);
    await vi.waitFor(() => expect(sorted(a.sent)).toEqual(sorted([...range('a', 50), ...range('b', 50)])));
    expect(b.sent).toEqual([]);
    await vi.waitFor(() => expect(b.tracker.stats().queued).toBe(0));
    expect(await storedKeys(name, 'c:')).toEqual([]);
  });

  it('counts send() from a tab that does not send as sent once the sender got it acknowledged', async () => {
    const name = `tabs${next++}`;
    const locks = installLocks();
    const a = tab(name);
    await vi.waitFor(() => expect(locks.held(`outbox:${name}:sender`)).toBe(true));
    const b = tab(name);
    const result = await b.tracker.send(range('s', 20).map((id) => ({ name: 'bulk', id })), 3000);
    expect(result).toEqual({ sent: 20, dropped: 0, pending: 0 });
    expect(sorted(a.sent)).toEqual(sorted(range('s', 20)));
    expect(b.sent).toEqual([]);
  });

  it('hands over to the next tab when the sender closes, without loss', async () => {
    const name = `tabs${next++}`;
    const locks = installLocks();
    const a = tab(name);
    await vi.waitFor(() => expect(locks.held(`outbox:${name}:sender`)).toBe(true));
    const b = tab(name);
    track(a.tracker, 'a', 20);
    track(b.tracker, 'b', 20);
    await a.tracker.close(1000);
    track(b.tracker, 'c', 20);
    await vi.waitFor(() => expect(sorted([...a.sent, ...b.sent])).toEqual(sorted([...range('a', 20), ...range('b', 20), ...range('c', 20)])));
    expect(b.sent).toContain('c0');
    expect(new Set([...a.sent, ...b.sent]).size).toBe(a.sent.length + b.sent.length);
  });

  it('re-sends a dead sender’s batch in flight once its lease expires, not before', async () => {
    const name = `tabs${next++}`;
    installLocks();
    const dead = recorder('hang');
    const a = tab(name, { transport: dead.transport, timeoutMs: 150 }); // lease: 2 x 150 ms
    track(a.tracker, 'a', 10);
    await vi.waitFor(async () => expect(await storedKeys(name, 'l:')).toHaveLength(1));
    const b = tab(name, { timeoutMs: 150 });
    const died = Date.now();
    await a.tracker.close(1); // the tab dies: its lock goes, its request never answers
    await vi.waitFor(() => expect(sorted(b.sent)).toEqual(sorted(range('a', 10))), 3000);
    expect(Date.now() - died).toBeGreaterThanOrEqual(250);
    expect(dead.ids).toEqual(range('a', 10));
  });

  it('keeps the caps for the shared outbox in the sender, evicting the oldest events first', async () => {
    const name = `tabs${next++}`;
    installLocks();
    const quiet = { flushIntervalMs: 60_000, maxBatchEvents: 1000, maxQueueEvents: 100 };
    const a = tab(name, quiet);
    const b = tab(name, quiet);
    track(a.tracker, 'a', 100);
    await vi.waitFor(async () => expect((await storedKeys(name, 'c:')).length).toBe(1));
    track(b.tracker, 'b', 100); // newer: the sender keeps these and evicts its own older ones
    await vi.waitFor(() => expect(a.tracker.stats().dropped.overflow).toBe(100));
    expect(await a.tracker.flush(2000)).toBe(true);
    expect(sorted(a.sent)).toEqual(sorted(range('b', 100)));
    expect(a.errors.filter((e) => e.code === 'overflow')).toHaveLength(1);
    expect(b.tracker.stats().dropped.overflow).toBe(0); // only the sender counts evictions
    await vi.waitFor(async () => expect(await storedKeys(name, 'c:')).toEqual([]));
  });

  it('makes a tab whose writes fail send its own events, reporting the failure once', async () => {
    const name = `tabs${next++}`;
    const locks = installLocks();
    const a = tab(name);
    await vi.waitFor(() => expect(locks.held(`outbox:${name}:sender`)).toBe(true));
    const shared = createIndexedDbStorage({ name });
    const broken: StorageAdapter = { ...shared, apply: () => Promise.reject(new DOMException('full', 'QuotaExceededError')) };
    const b = tab(name, { storage: broken });
    for (let tick = 0; tick < 3; tick++) {
      track(b.tracker, `b${tick}-`, 5);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await vi.waitFor(() => expect(sorted(b.sent)).toEqual(sorted([0, 1, 2].flatMap((tick) => range(`b${tick}-`, 5)))));
    expect(b.errors.filter((e) => e.code === 'storage')).toHaveLength(1);
    expect(a.sent).toEqual([]);
  });
});

describe('without Web Locks', () => {
  it('lets every tab send, and a lease keeps a tab off another tab’s batch in flight', async () => {
    const name = `tabs${next++}`;
    const dead = recorder('hang');
    const a = tab(name, { transport: dead.transport, timeoutMs: 5000 });
    track(a.tracker, 'a', 10);
    await vi.waitFor(async () => expect(await storedKeys(name, 'l:')).toHaveLength(1));
    const b = tab(name);
    track(b.tracker, 'b', 10);
    await vi.waitFor(() => expect(sorted(b.sent)).toEqual(sorted(range('b', 10))));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(b.sent.filter((id) => id.startsWith('a'))).toEqual([]);
  });
});

describe('without shared storage', () => {
  it('falls back to memory when IndexedDB is missing, says so once, and keeps delivering', async () => {
    vi.stubGlobal('indexedDB', undefined);
    try {
      installLocks();
      const a = tab(`tabs${next++}`);
      track(a.tracker, 'a', 30);
      expect(await a.tracker.flush(2000)).toBe(true);
      expect(sorted(a.sent)).toEqual(sorted(range('a', 30)));
      expect(a.errors.map((e) => e.code)).toEqual(['storage']);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
