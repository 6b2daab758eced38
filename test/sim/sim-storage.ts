// A simulated StorageAdapter over one Map shared by every tab of a history, with the faults a
// browser profile shows: latency, operations that throw synchronously or reject, writes that
// report success and never land, and values corrupted behind the tracker's back. Each tab gets
// its own handle; a crashed tab's handle goes dead (its operations never complete).
import type { StorageAdapter } from '../../src/storage/storage.js';
import { prng, type SimClock } from './sim-clock.js';
import type { SimTabs } from './sim-tabs.js';

/** Fault settings of the shared storage; changed by the history as it runs. */
export interface StorageFaults {
  /** Probability that an operation fails (half throw synchronously, half reject). */
  failRate: number;
  /** Probability that a write or delete reports success but changes nothing. */
  loseRate: number;
  /** Largest latency of an operation, ms (0: the next turn). */
  latencyMs: number;
}

/** The shared store of one history. */
export interface SimStorage {
  readonly map: Map<string, string>;
  faults: StorageFaults;
  /**
   * A handle for one tab; `kill()` makes its pending and later operations hang forever. With
   * `tabs`, the adapter offers `watch()` (as IndexedDB's does): other handles hear of its writes.
   */
  handle(owner: string, tabs?: SimTabs): { adapter: StorageAdapter; kill(): void };
  /** Ids of the events in every chunk the store holds now (what a crash leaves behind). */
  storedIds(): Set<string>;
  /** Operations that failed on purpose so far. */
  readonly failures: number;
  /** Ids of events in chunk writes that reported success and were dropped (the storage lied). */
  readonly lostIds: Set<string>;
  /**
   * Chunk deletes and rewrites that reported success and were dropped: the events they removed
   * stay in storage, and a read takes them in again (sent and counted twice: durability.md, Limits).
   */
  readonly lostRemovals: number;
}

/** Parses the ids of a chunk value; a corrupted one yields none. */
export function chunkIds(value: string): string[] {
  try {
    const records = JSON.parse(value) as unknown;
    if (!Array.isArray(records)) return [];
    return records.flatMap((r) => (r && typeof r === 'object' && typeof (r as { id?: unknown }).id === 'string' ? [(r as { id: string }).id] : []));
  } catch {
    return [];
  }
}

/** Creates the shared simulated storage of a history; `bulk` gives the adapter `apply()`. */
export function createSimStorage(clock: SimClock, seed: number, faults: StorageFaults, bulk = true): SimStorage {
  const map = new Map<string, string>();
  const random = prng(seed);
  let failures = 0;
  let lostRemovals = 0;
  const lostIds = new Set<string>();
  const watchers = new Map<string, Set<() => void>>();
  // After a committed write that added chunks, the other tabs' watchers hear of it (a BroadcastChannel post).
  const nudge = (from: string, written: readonly (readonly [string, string])[]) => {
    if (!written.some(([key]) => key.startsWith('c:'))) return;
    for (const [owner, listeners] of watchers) if (owner !== from) for (const listener of listeners) clock.after(1, listener);
  };
  const store: SimStorage = {
    map,
    faults,
    lostIds,
    get failures() {
      return failures;
    },
    get lostRemovals() {
      return lostRemovals;
    },
    storedIds() {
      const ids = new Set<string>();
      for (const [key, value] of map) if (key.startsWith('c:')) for (const id of chunkIds(value)) ids.add(id);
      return ids;
    },
    handle(owner, tabs) {
      let dead = false;
      const never = new Promise<never>(() => undefined);
      // Every operation: maybe a synchronous throw, then latency, then maybe a rejection.
      function op<T>(name: string, run: () => T, write: boolean, written: readonly (readonly [string, string])[] = [], deleted: readonly string[] = []): Promise<T> {
        if (dead) return never;
        const { failRate, loseRate, latencyMs } = store.faults;
        const roll = random();
        if (roll < failRate / 2) {
          failures++;
          throw new Error(`sim storage: ${name} threw synchronously`);
        }
        const rejects = roll < failRate;
        const lost = write && !rejects && random() < loseRate;
        const delay = latencyMs > 0 ? Math.floor(random() * latencyMs) : 0;
        return new Promise<T>((resolve, reject) => {
          clock.after(delay, () => {
            if (dead) return;
            if (rejects) {
              failures++;
              reject(new Error(`sim storage: ${name} failed`));
            } else {
              if (lost) for (const [key, value] of written) if (key.startsWith('c:')) for (const id of chunkIds(value)) lostIds.add(id);
              if (lost && [...written.map(([key]) => key), ...deleted].some((key) => key.startsWith('c:') && map.has(key))) lostRemovals++;
              const result = lost ? (undefined as T) : run();
              if (!lost) nudge(owner, written);
              resolve(result);
            }
          });
        });
      }
      const adapter: StorageAdapter = {
        get: (key) => op('get', () => map.get(key), false),
        set: (key, value) => op('set', () => void map.set(key, value), true, [[key, value]]),
        delete: (key) => op('delete', () => void map.delete(key), true, [], [key]),
        keys: (prefix) => op('keys', () => [...map.keys()].filter((key) => key.startsWith(prefix)), false),
      };
      // The optional bulk method, as IndexedDB's adapter has it; without it the core uses set/delete.
      if (bulk)
        adapter.apply = (sets, deletes) =>
          op(
            'apply',
            () => {
              for (const [key, value] of sets) map.set(key, value);
              for (const key of deletes) map.delete(key);
            },
            true,
            sets,
            deletes,
          );
      if (tabs) {
        adapter.watch = (listener) => {
          tabs.claim(owner);
          const listeners = watchers.get(owner) ?? new Set<() => void>();
          watchers.set(owner, listeners);
          const guarded = () => {
            if (!dead) listener();
          };
          listeners.add(guarded);
          return () => listeners.delete(guarded);
        };
      }
      return {
        adapter,
        kill() {
          dead = true;
          watchers.delete(owner);
        },
      };
    },
  };
  return store;
}
