import { without, type Live } from './chunk-events.js';
import { cutBySize, joinedBytes } from './cut-by-size.js';
import { outboxChunkPrefix as chunkPrefix } from './outbox-records.js';
import type { LoadResult, Outbox, OutboxSettings, StoredEvent } from './outbox-types.js';
import { restoreRules } from './rules.js';
import type { StorageAdapter } from './storage/storage.js';
import { writeRetryDelay } from './outbox-write-retry.js';
import { parseJson, restoreEvent, serializeChunk, writeAll } from './stored-records.js';

export type { CorruptKind, LoadResult, Outbox, OutboxSettings, StoredEvent } from './outbox-types.js';

const leasePrefix = 'l:';
const rulesKey = 'rules';

/**
 * Creates the durable queue over any storage adapter. Keys sort in arrival order (`c:<time>:<writer>:<seq>`), chunks
 * of one tick per writer: a crash loses what is not written yet (the last tick, and ticks waiting on a slow write).
 * Only acknowledged or dropped events are ever deleted. What is read back is untrusted (checked against wire format v1).
 */
export function createOutbox(storage: StorageAdapter, settings: OutboxSettings): Outbox {
  const { writerId, now, onError, onCorrupt, chunkEvents = 100, chunkBytes = Infinity, maxLeaseMs = Infinity, retry } = settings;
  // chunk key → events of it not yet removed (chunk-events.ts).
  const chunks = new Map<string, Live>();
  // Adapter calls through a promise: one that throws synchronously is a failed operation.
  const call = <T>(fn: () => Promise<T>): Promise<T> => new Promise<T>((resolve) => resolve(fn()));
  let appended: StoredEvent[] = [];
  const sets = new Map<string, string>();
  const deletes = new Set<string>();
  const dirty = new Set<string>();
  let chunkSeq = 0;
  let scheduled = false;
  let failures = 0; // failed write ticks in a row
  let fullReadOwed = false;
  let writing: Promise<void> = Promise.resolve();
  let loading: Promise<unknown> = Promise.resolve();
  const mine = new Set<string>(); // keys of this outbox's leases not yet released
  let gone: Set<string> | undefined; // ids delivered while a read runs (it may have read their chunk first)

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      writing = writing.then(writeTick, writeTick);
    });
  }

  function writeTick(): Promise<void> {
    // At most `chunkEvents` and `chunkBytes` (a few batches): an acknowledgement rewrites a small
    // chunk or deletes it (10,000 events of one tick rewrote 47 MB in IndexedDB as one chunk).
    for (const events of cutBySize(appended, joinedBytes, { maxBytes: chunkBytes, maxCount: chunkEvents })) {
      const key = `${chunkPrefix}${now().toString(36).padStart(9, '0')}:${writerId}:${(chunkSeq++).toString(36).padStart(6, '0')}`;
      for (const event of events) event.chunk = key;
      chunks.set(key, new Set(events));
      sets.set(key, serializeChunk(events));
    }
    appended = [];
    for (const key of dirty) {
      const live = chunks.get(key);
      if (!live) continue;
      if (live.size) sets.set(key, serializeChunk(live.values()));
      else {
        chunks.delete(key);
        sets.delete(key);
        deletes.add(key);
      }
    }
    dirty.clear();
    const setList = [...sets];
    const deleteList = [...deletes];
    sets.clear();
    deletes.clear();
    if (!setList.length && !deleteList.length) return Promise.resolve();
    // An adapter that throws synchronously is a failed write.
    return writeAll(storage, setList, deleteList).then(
      () => {
        failures = 0;
        for (const [key] of setList) for (const event of chunks.get(key)?.values() ?? []) event.stored = true;
      },
      (error: unknown) => {
        // Nothing of a failed tick is given up (a lost delete let a read take acknowledged events in
        // again, counted twice: sim F10): each operation goes again unless a newer one replaced it.
        for (const [key, value] of setList) if (!sets.has(key) && !deletes.has(key)) chunks.has(key) ? dirty.add(key) : key.startsWith(chunkPrefix) || sets.set(key, value);
        for (const key of deleteList) sets.has(key) || chunks.has(key) || deletes.add(key);
        // One report per streak of failures, not one per tick. Written again by itself: a tab that
        // appends nothing more never wrote its failed chunk (seed -579417675).
        if (!failures++) onError(error);
        retry?.(writeRetryDelay(failures), schedule);
      },
    );
  }

  async function read(all: boolean): Promise<LoadResult> {
    // A full read that failed is owed until one succeeds: the retry of a new sender's failed read
    // is a rescan, and a rescan skips chunks this tab wrote, whatever it evicted from them (sim F13).
    all = fullReadOwed ||= all;
    gone = new Set();
    const time = now();
    const knownBefore = all ? new Set(chunks.keys()) : undefined;
    const [chunkKeys, leaseKeys] = await Promise.all([keys(chunkPrefix), keys(leasePrefix)]);
    // Ids leased by another tab or an earlier page; never this tab's own (a page that hid, leased
    // its unload request, then became the sender took them for a closed page's: dropped uncounted).
    const theirs = new Set<string>();
    let nextLeaseExpiry: number | undefined;
    let badLeases = 0;
    for (const key of leaseKeys) {
      const lease = parseJson<{ until: number; ids: string[] }>(await get(key));
      const valid = Number.isFinite(lease?.until) && Array.isArray(lease!.ids) && lease!.ids.every((id) => typeof id === 'string');
      if (!valid || !(lease!.until > time)) {
        badLeases += lease === undefined || valid ? 0 : 1;
        deletes.add(key);
        mine.delete(key);
      } else {
        // A lease far in the future (the clock went back, or a forged value) would hold its
        // events that long: cut it to what a request can take, and store the cut.
        if (lease!.until > time + maxLeaseMs) sets.set(key, JSON.stringify({ ...lease, until: (lease!.until = time + maxLeaseMs) }));
        if (!mine.has(key)) for (const id of lease!.ids) theirs.add(id);
        nextLeaseExpiry = Math.min(nextLeaseExpiry ?? Infinity, lease!.until);
      }
    }
    if (badLeases) onCorrupt('lease', badLeases);
    const loaded = new Map<string, Map<string, StoredEvent>>();
    let bad = 0;
    let owed = false;
    const lost: unknown[] = []; // unusable records that still name an id: the report lists them
    const present = new Set(chunkKeys);
    // A chunk with a write pending is what memory says: a full read takes it from there (it may hold
    // events this tab evicted for another sender, which no later read would see: seed 527197183).
    for (const key of [...new Set([...chunkKeys, ...dirty])].sort()) {
      if ((chunks.has(key) && !all) || deletes.has(key)) continue;
      // Not a quarantine a failed read marked (dirty, never taken in): that one is in storage.
      const pending = dirty.has(key) ? chunks.get(key) : undefined;
      const text = pending ? serializeChunk(pending.values()) : await get(key);
      if (text === undefined) continue; // deleted since keys() (acknowledged by another tab)
      const records = parseJson<unknown[]>(text);
      const live = new Map<string, StoredEvent>();
      let anyLeased = false;
      let badHere = Array.isArray(records) ? 0 : 1; // an unparseable chunk counts as one
      for (const record of badHere ? [] : records!) {
        const event = restoreEvent(record, key, present.has(key));
        if (!event) {
          badHere++;
          if (typeof (record as { id?: unknown } | null)?.id === 'string') lost.push(record);
        }
        // Only another's lease holds the chunk: an id of this tab's own request is the tracker's.
        else if (theirs.has(event.id)) anyLeased = true;
        else live.set(event.id, event);
      }
      // Read again once the lease expires; one with a write pending stays known: the next read is full.
      if (anyLeased) {
        owed ||= dirty.has(key);
        continue;
      }
      loaded.set(key, live);
      // Quarantine: the chunk is rewritten without what could not be used (deleted if empty).
      if (badHere) dirty.add(key);
      bad += badHere;
    }
    // Only now that the read succeeded: forget what a new sender must not trust any more.
    if (all) for (const key of chunks.keys()) if (!loaded.has(key) && !dirty.has(key) && knownBefore!.has(key)) chunks.delete(key);
    const events: StoredEvent[] = [];
    for (const [key, live] of loaded) {
      // Delivered while the read awaited storage: not taken in (CI, Firefox: sent and counted twice).
      // Storage loses them by the rewrite their removal marked, or by the acknowledging tab's own.
      for (const id of gone) live.delete(id);
      chunks.set(key, live);
      events.push(...live.values());
    }
    if (bad) onCorrupt('events', bad, lost);
    fullReadOwed = owed;
    gone = undefined;
    schedule();
    // Taken: its chunk is gone, leased, or read without it (another tab acknowledged part of it).
    return [events, nextLeaseExpiry, (event) => !present.has(event.chunk!) || theirs.has(event.id) || loaded.get(event.chunk!)?.has(event.id) === false];
  }

  // Keys and values of another type are as unusable as torn ones.
  const keys = async (prefix: string): Promise<string[]> => (await call(() => storage.keys(prefix))).filter((key) => typeof key === 'string' && key.startsWith(prefix));
  const get = async (key: string): Promise<string | undefined> => {
    const value: unknown = await call(() => storage.get(key));
    return value == null ? undefined : String(value);
  };

  return {
    append(event) {
      appended.push(event);
      schedule();
    },
    remove(events) {
      for (const event of events) {
        gone?.add(event.id);
        if (event.chunk === undefined) {
          // Not written yet: drop it from the pending chunk.
          const index = appended.indexOf(event);
          if (index >= 0) appended.splice(index, 1);
          continue;
        }
        const live = chunks.get(event.chunk);
        if (live && without(live, event)) dirty.add(event.chunk);
      }
      schedule();
    },
    load(all = false) {
      // One at a time, after the writes issued so far (two loads must not take in the same chunk).
      const run = loading.then(() => writing).then(() => read(all));
      loading = run.catch(() => undefined);
      return run;
    },
    forget(events, whole) {
      for (const event of events) {
        if (!whole) gone?.add(event.id);
        const live = chunks.get(event.chunk!); // no chunk (not written yet): no entry either
        if (live) without(live, event);
        // Unacknowledged (`whole`): the chunk goes from memory, and with it any rewrite from memory
        // that would drop them from storage (seed 19 history: the tab acknowledged the rest).
        if ((whole || live?.size === 0) && !dirty.has(event.chunk!)) chunks.delete(event.chunk!);
      }
    },
    lease(leaseId, events, until) {
      mine.add(leasePrefix + leaseId);
      sets.set(leasePrefix + leaseId, JSON.stringify({ until, ids: events.map((e) => e.id), stream: events[0]?.stream, at: now() }));
      schedule();
    },
    release(leaseId) {
      const key = leasePrefix + leaseId;
      mine.delete(key);
      if (!sets.delete(key)) deletes.add(key);
      schedule();
    },
    saveRules(rules) {
      sets.set(rulesKey, JSON.stringify(rules));
      schedule();
    },
    async loadRules() {
      const text = await get(rulesKey);
      // Unparseable text reads as null: not an array, so refused (and rewritten) like bad rules.
      const [rules, rejected] = restoreRules(text === undefined ? undefined : (parseJson<unknown>(text) ?? null), now());
      if (rejected) {
        sets.set(rulesKey, JSON.stringify(rules));
        schedule();
        onCorrupt('rules', rejected);
      }
      return rules;
    },
    idle() {
      // Two rounds: a write scheduled while the current one runs chains after it.
      return Promise.resolve().then(() => writing).then(() => writing);
    },
  };
}
