import type { QueuedEvent } from './event.js';
import type { ActiveRule } from './rules.js';
import type { StorageAdapter } from './storage/storage.js';

/** An event the durable outbox knows, with the chunk (storage key) that holds it. */
export interface StoredEvent extends QueuedEvent {
  chunk?: string;
  /** True once its chunk is known to be in storage (our write succeeded, or it was loaded). */
  stored?: boolean;
}

/** The durable queue over a {@link StorageAdapter} (see {@link createOutbox}). */
export interface Outbox {
  /** Queues an event for writing; all appends of one tick become one chunk, one write. */
  append(event: StoredEvent): void;
  /** Forgets events for good (acknowledged or dropped): their chunks are deleted or rewritten. */
  remove(events: readonly StoredEvent[]): void;
  /**
   * Reads chunks this outbox does not know yet (other writers', earlier sessions'), oldest
   * first, leaving out events under an unexpired lease. `nextLeaseExpiry` says when to look again.
   */
  load(): Promise<{ events: StoredEvent[]; nextLeaseExpiry: number | undefined }>;
  /** Forgets which chunks are known, so the next `load()` reads everything (a new sender). */
  forgetKnown(): void;
  /** Whether a known chunk (written or loaded since `forgetKnown()`) still holds this event. */
  has(event: StoredEvent): boolean;
  /** Stops tracking events that left memory while another tab owns storage (memory only, no write). */
  forget(events: readonly StoredEvent[]): void;
  /**
   * Records that `ids` are being sent by someone until `until`, so no one else sends them.
   * `leaseId` is the request's `rid` and `stream` its stream: the next sender asks the collector
   * for that request's receipt instead of waiting out the lease (platform/lease-receipts.ts).
   */
  lease(leaseId: string, ids: readonly string[], until: number, stream?: string): void;
  /** Ends a lease (the request finished, whatever its outcome). */
  release(leaseId: string): void;
  saveRules(rules: readonly ActiveRule[]): void;
  loadRules(): Promise<ActiveRule[]>;
  /** Resolves when every write queued so far has reached storage. */
  idle(): Promise<void>;
}

const chunkPrefix = 'c:';
const leasePrefix = 'l:';
const rulesKey = 'rules';

/**
 * Creates the durable queue over any storage adapter. Keys sort in arrival order
 * (`c:<time>:<writer>:<seq>`), one chunk per tick per writer, so a crash loses at most the
 * events of the current tick. Only acknowledged or dropped events are ever deleted.
 */
export function createOutbox(
  storage: StorageAdapter,
  writerId: string,
  now: () => number,
  onError: (error: unknown) => void,
  chunkEvents = 100,
): Outbox {
  // chunk key → events of it not yet removed, by id (a chunk loaded twice holds other objects
  // with the same ids: removal must still find them)
  const chunks = new Map<string, Map<string, StoredEvent>>();
  let appended: StoredEvent[] = [];
  const sets = new Map<string, string>();
  const deletes = new Set<string>();
  const dirty = new Set<string>();
  let chunkSeq = 0;
  let scheduled = false;
  let failing = false;
  let writing: Promise<void> = Promise.resolve();
  let loading: Promise<unknown> = Promise.resolve();

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      writing = writing.then(writeTick, writeTick);
    });
  }

  function writeTick(): Promise<void> {
    // At most `chunkEvents` per chunk: batches then mostly cover whole chunks, and an
    // acknowledgement deletes a chunk instead of rewriting a large one (10,000 events tracked in
    // one tick rewrote 47 MB in IndexedDB as one chunk; 1.2 MB in chunks of a batch).
    const written: [string, Map<string, StoredEvent>][] = [];
    for (let start = 0; start < appended.length; start += chunkEvents) {
      const key = `${chunkPrefix}${now().toString(36).padStart(9, '0')}:${writerId}:${(chunkSeq++).toString(36).padStart(6, '0')}`;
      const live = new Map(appended.slice(start, start + chunkEvents).map((event) => [event.id, event]));
      for (const event of live.values()) event.chunk = key;
      chunks.set(key, live);
      sets.set(key, serializeChunk(live.values()));
      written.push([key, live]);
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
    const done = storage.apply
      ? storage.apply(setList, deleteList)
      : Promise.all([...setList.map(([k, v]) => storage.set(k, v)), ...deleteList.map((k) => storage.delete(k))]);
    return done.then(
      () => {
        failing = false;
        for (const [, live] of written) for (const event of live.values()) event.stored = true;
      },
      (error: unknown) => {
        // The new chunks are not in storage: their events live in memory only (`stored` stays unset).
        for (const [key] of written) chunks.delete(key);
        // One report per streak of failures, not one per tick.
        if (!failing) onError(error);
        failing = true;
      },
    );
  }

  async function read(): Promise<{ events: StoredEvent[]; nextLeaseExpiry: number | undefined }> {
    const time = now();
    const [chunkKeys, leaseKeys] = await Promise.all([storage.keys(chunkPrefix), storage.keys(leasePrefix)]);
    const leased = new Set<string>();
    let nextLeaseExpiry: number | undefined;
    for (const key of leaseKeys) {
      const lease = parseJson<{ until: number; ids: string[] }>(await storage.get(key));
      if (!lease || !(lease.until > time)) {
        void storage.delete(key).catch(onError);
        continue;
      }
      for (const id of lease.ids) leased.add(id);
      nextLeaseExpiry = Math.min(nextLeaseExpiry ?? Infinity, lease.until);
    }
    const events: StoredEvent[] = [];
    for (const key of chunkKeys.sort()) {
      if (chunks.has(key)) continue;
      const records = parseJson<Record<string, unknown>[]>(await storage.get(key));
      if (!Array.isArray(records)) continue;
      const live = new Map<string, StoredEvent>();
      let anyLeased = false;
      for (const record of records) {
        const event = restoreEvent(record, key);
        if (!event) continue;
        if (leased.has(event.id)) anyLeased = true;
        else live.set(event.id, event);
      }
      // A chunk with leased events is read again once the lease expires; until then it is not ours.
      if (anyLeased) continue;
      chunks.set(key, live);
      events.push(...live.values());
    }
    return { events, nextLeaseExpiry };
  }

  return {
    append(event) {
      appended.push(event);
      schedule();
    },
    remove(events) {
      for (const event of events) {
        if (event.chunk === undefined) {
          // Not written yet: drop it from the pending chunk.
          const index = appended.indexOf(event);
          if (index >= 0) appended.splice(index, 1);
          continue;
        }
        const live = chunks.get(event.chunk);
        if (live?.delete(event.id)) dirty.add(event.chunk);
      }
      schedule();
    },
    load() {
      // One load at a time, after the writes issued so far: a load must see our own chunks that
      // are being written, and two loads must not both take in the same chunk.
      const run = loading.then(() => writing).then(read);
      loading = run.catch(() => undefined);
      return run;
    },
    forgetKnown() {
      chunks.clear();
    },
    has(event) {
      return !!chunks.get(event.chunk!)?.has(event.id);
    },
    forget(events) {
      for (const event of events) {
        const live = event.chunk === undefined ? undefined : chunks.get(event.chunk);
        live?.delete(event.id);
        if (live?.size === 0 && !dirty.has(event.chunk!)) chunks.delete(event.chunk!);
      }
    },
    lease(leaseId, ids, until, stream) {
      sets.set(leasePrefix + leaseId, JSON.stringify({ until, ids, stream, at: now() }));
      schedule();
    },
    release(leaseId) {
      const key = leasePrefix + leaseId;
      if (!sets.delete(key)) deletes.add(key);
      schedule();
    },
    saveRules(rules) {
      sets.set(rulesKey, JSON.stringify(rules));
      schedule();
    },
    async loadRules() {
      const rules = parseJson<ActiveRule[]>(await storage.get(rulesKey));
      return Array.isArray(rules) ? rules : [];
    },
    idle() {
      // Two rounds: a write scheduled while the current one runs chains after it.
      return new Promise<void>((resolve) => queueMicrotask(resolve)).then(() => writing).then(() => writing);
    },
  };
}

function serializeChunk(events: Iterable<StoredEvent>): string {
  let out = '[';
  for (const event of events) out += (out.length > 1 ? ',' : '') + event.json;
  return `${out}]`;
}

function parseJson<T>(text: string | undefined): T | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined; // a torn or foreign value: skipped, never fatal
  }
}

// Rebuilds a queued event from its stored wire form. Its `json` is re-serialized from the parsed
// record (same content) and `seq` is set by the tracker when it takes the event in.
function restoreEvent(record: Record<string, unknown>, chunk: string): StoredEvent | undefined {
  if (!record || typeof record.id !== 'string' || typeof record.name !== 'string') return undefined;
  const json = JSON.stringify(record);
  return {
    id: record.id,
    name: record.name,
    sourceId: typeof record.sourceId === 'string' ? record.sourceId : '',
    stream: typeof record.stream === 'string' ? record.stream : '',
    json,
    bytes: new TextEncoder().encode(json).length,
    seq: 0,
    chunk,
    stored: true,
  };
}
