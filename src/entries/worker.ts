// outbox/worker: delivery from Cloudflare Workers. A Worker may only do I/O for the request that
// started it, and only until its response is sent plus what `ctx.waitUntil` extends (~30 s); a
// timer set for later never fires. So every invocation gets its own tracker, delivers after the
// response through `waitUntil`, and what could not be delivered in time spills to storage
// (Workers KV) for a later invocation to send. See docs/workers.md.
import { OutboxError, type OutboxEventRecord } from '../errors.js';
import { randomId, utf8Length } from '../event.js';
import type { TrackerOptions } from '../options.js';
import type { TrackerStats } from '../stats.js';
import { createMemoryStorage } from '../storage/memory.js';
import type { StorageAdapter } from '../storage/storage.js';
import { createTracker, type Tracker } from '../tracker.js';
import { decodeQueueMessage } from '../transport/queues.js';

/** The part of a Worker's `ExecutionContext` outbox uses. */
export interface WaitUntilContext {
  waitUntil(promise: Promise<unknown>): void;
}

/** Options of {@link createInvocationTracker} and {@link withTracker}. */
export interface InvocationTrackerOptions {
  /**
   * The tracker's options (`endpoint`, `sourceId`, `transport`...). `storage` is ignored: the
   * invocation keeps its events in memory and spills what is left to `spill`.
   */
  tracker: TrackerOptions;
  /**
   * Where events that could not be delivered in time go, for a later invocation to send: usually
   * `createWorkersKvStorage(env.OUTBOX_KV)`. Without it they are reported through `onError`
   * (code `storage`) and lost.
   * @default undefined
   */
  spill?: StorageAdapter;
  /**
   * Time to deliver this invocation's events, and again to drain earlier spills. Both run inside
   * `waitUntil`, which allows about 30 s after the response: keep twice this under it.
   * @default 10000
   */
  flushTimeoutMs?: number;
  /**
   * After delivering, send chunks earlier invocations spilled (costs a KV `list` per invocation).
   * @default true
   */
  drain?: boolean;
  /** Spilled chunks one invocation drains at most (KV allows 1000 operations an invocation). @default 10 */
  maxDrainChunks?: number;
}

/** How an invocation's delivery ended: what {@link InvocationTracker.finish} resolves with. */
export interface Delivery {
  /** Every event tracked in this invocation was acknowledged (or dropped for a counted reason). */
  delivered: boolean;
  /** Events written to `spill` because the collector did not acknowledge them in time. */
  spilled: number;
  /** Events of earlier spills delivered by this invocation. */
  drained: number;
  /** Events neither delivered nor spilled (no `spill`, or it failed); each reported through `onError`. */
  lost: number;
  /** The invocation tracker's counters. */
  stats: TrackerStats;
}

/** A tracker for one invocation, and the step that ends it. */
export interface InvocationTracker {
  readonly tracker: Tracker;
  /**
   * Delivers, spills what is left, drains earlier spills. Hand it to `ctx.waitUntil` once the
   * response is ready; it never rejects, and calling it again returns the same promise.
   */
  finish(): Promise<Delivery>;
}

const defaults = { flushTimeoutMs: 10_000, drain: true, maxDrainChunks: 10 } as const;
const chunkPrefix = 'c:'; // the core outbox's chunk prefix: the memory storage holds `c:` chunks
// A spilled chunk is cut at this size, so a drain that stops half-way re-sends at most this much.
const maxSpillChunkBytes = 1024 * 1024;

/**
 * Creates a tracker for one invocation (one request, cron run or queue batch). Never share one
 * across requests: a request's I/O may not be used from another request.
 */
export function createInvocationTracker(options: InvocationTrackerOptions): InvocationTracker {
  const { spill, flushTimeoutMs = defaults.flushTimeoutMs, drain = defaults.drain, maxDrainChunks = defaults.maxDrainChunks } = options;
  const trackerOptions = options.tracker;
  const now = trackerOptions.now ?? Date.now;
  const report = (error: OutboxError) => {
    try {
      trackerOptions.onError?.(error);
    } catch {
      // The host's callback failing must not break delivery.
    }
  };
  // The core keeps every unacknowledged event in its storage until acknowledged or dropped: a
  // memory map we own tells us exactly what is left to spill, through the public API only.
  const memory = new Map<string, string>();
  const tracker = createTracker({ ...trackerOptions, storage: createMemoryStorage(memory) });
  let finishing: Promise<Delivery> | undefined;

  async function spillLeftovers(): Promise<{ spilled: number; lost: number }> {
    const records: OutboxEventRecord[] = [];
    for (const [key, value] of [...memory].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (key.startsWith(chunkPrefix)) records.push(...(JSON.parse(value) as OutboxEventRecord[]));
    }
    let spilled = 0;
    let lost = 0;
    for (const chunk of cutChunks(records)) {
      try {
        if (!spill) throw new Error('no spill storage configured');
        // A fresh key per chunk: KV takes ~1 write per second per key, and a new key never races.
        await spill.set(`${chunkPrefix}${now().toString(36).padStart(9, '0')}:${randomId(10)}`, JSON.stringify(chunk));
        spilled += chunk.length;
      } catch (error) {
        lost += chunk.length;
        report(new OutboxError('storage', `${chunk.length} events were not delivered in time and could not be spilled; they are lost`, { events: chunk, cause: error }));
      }
    }
    return { spilled, lost };
  }

  async function finishOnce(): Promise<Delivery> {
    let delivered = false;
    let spilled = 0;
    let lost = 0;
    let drained = 0;
    try {
      delivered = await tracker.close(flushTimeoutMs);
      if (!delivered) ({ spilled, lost } = await spillLeftovers());
      else if (spill && drain) drained = await drainSpill(spill, trackerOptions, { timeoutMs: flushTimeoutMs, maxChunks: maxDrainChunks, report });
    } catch (error) {
      report(new OutboxError('storage', 'finishing the invocation failed', { cause: error }));
    }
    return { delivered, spilled, drained, lost, stats: tracker.stats() };
  }

  return {
    tracker,
    finish: () => (finishing ??= finishOnce()),
  };
}

function cutChunks(records: OutboxEventRecord[]): OutboxEventRecord[][] {
  const chunks: OutboxEventRecord[][] = [];
  let chunk: OutboxEventRecord[] = [];
  let bytes = 0;
  for (const record of records) {
    const size = utf8Length(JSON.stringify(record));
    if (chunk.length && bytes + size > maxSpillChunkBytes) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(record);
    bytes += size;
  }
  if (chunk.length) chunks.push(chunk);
  return chunks;
}

/** Options of {@link drainSpill}. */
export interface DrainOptions {
  /** Stop starting new chunks after this long. @default 10000 */
  timeoutMs?: number;
  /** Chunks read at most. @default 10 */
  maxChunks?: number;
  /** Receives problems with the spill storage (an unreadable chunk is reported, then deleted). */
  report?: (error: OutboxError) => void;
}

/**
 * Sends chunks spilled by earlier invocations, oldest first, deleting each one only once all its
 * events were acknowledged (or dropped for a counted reason); it stops at the first chunk that
 * does not go through. Resolves with the number of events delivered. `withTracker` calls it.
 *
 * KV is eventually consistent: a chunk deleted elsewhere a moment ago may still be listed here and
 * sent again. The collector removes such duplicates by event id; nothing is lost.
 */
export async function drainSpill(spill: StorageAdapter, trackerOptions: TrackerOptions, options: DrainOptions = {}): Promise<number> {
  const { timeoutMs = defaults.flushTimeoutMs, maxChunks = defaults.maxDrainChunks, report } = options;
  const now = trackerOptions.now ?? Date.now;
  const deadline = now() + timeoutMs;
  const keys = (await spill.keys(chunkPrefix)).sort().slice(0, maxChunks);
  if (!keys.length) return 0;
  // A separate, memory-only tracker: the KV chunk stays the durable copy until acknowledged.
  const drainer = createTracker({ ...trackerOptions, storage: false });
  let drained = 0;
  try {
    for (const key of keys) {
      const left = deadline - now();
      if (left <= 0) break;
      const value = await spill.get(key);
      if (value === undefined) continue; // drained by another invocation meanwhile
      const events = parseChunk(value);
      if (!events) {
        report?.(new OutboxError('storage', `spilled chunk "${key}" is unreadable; deleting it`));
        await spill.delete(key);
        continue;
      }
      const result = await drainer.send(events, left);
      if (result.pending) break; // the collector is failing again: the chunk waits for a later drain
      await spill.delete(key);
      drained += result.sent;
    }
  } finally {
    await drainer.close(0);
  }
  return drained;
}

// A spilled chunk is a JSON array of wire records, like the core outbox's own chunks.
function parseChunk(value: string): ReturnType<typeof decodeQueueMessage> {
  try {
    return decodeQueueMessage({ events: JSON.parse(value) });
  } catch {
    return undefined;
  }
}

/** The part of a cron trigger's `ScheduledController` the wrapper passes on. */
export interface ScheduledControllerLike {
  readonly scheduledTime: number;
  readonly cron: string;
}

/** Handlers that receive the invocation's tracker as a last argument. */
export interface TrackedHandlers<Env = unknown, Ctx extends WaitUntilContext = WaitUntilContext> {
  fetch?(request: Request, env: Env, ctx: Ctx, tracker: Tracker): Response | Promise<Response>;
  scheduled?(controller: ScheduledControllerLike, env: Env, ctx: Ctx, tracker: Tracker): void | Promise<void>;
}

/** Options of {@link withTracker}: {@link InvocationTrackerOptions}, plus when to drain. */
export interface WithTrackerOptions extends Omit<InvocationTrackerOptions, 'drain'> {
  /**
   * Also drain spills after each successful `fetch` (a KV `list` per request). With a cron
   * trigger draining instead, set false on busy Workers: fewer KV operations, fewer duplicates.
   * `scheduled` always drains.
   * @default true
   */
  drainOnFetch?: boolean;
}

/** What {@link withTracker} returns: the handlers, with `fetch` and `scheduled` wrapped. */
export type WrappedHandlers<Env, Ctx extends WaitUntilContext, H> = Omit<H, 'fetch' | 'scheduled'> & {
  scheduled(controller: ScheduledControllerLike, env: Env, ctx: Ctx): Promise<void>;
} & (H extends { fetch: unknown } ? { fetch(request: Request, env: Env, ctx: Ctx): Promise<Response> } : unknown);

/**
 * Wraps a module Worker's handlers: each `fetch` and `scheduled` invocation gets its own tracker
 * as a last argument, and once the handler returned (or threw) its events are delivered through
 * `ctx.waitUntil`, spilled to `spill` if the collector does not acknowledge them in time, and
 * spills of earlier invocations are drained. `scheduled` is always exported, so a cron trigger
 * drains even without a handler of yours. Other handlers (`queue`...) pass through unchanged.
 *
 * @param options the options, or a function of `env` returning them (bindings live in `env`)
 * @example
 * export default withTracker((env: Env) => ({ tracker: { endpoint: env.COLLECTOR_ENDPOINT }, spill: createWorkersKvStorage(env.OUTBOX_KV) }), {
 *   async fetch(request, env, ctx, tracker) {
 *     tracker.track('page_view', { path: new URL(request.url).pathname });
 *     return new Response('hello');
 *   },
 * });
 */
export function withTracker<Env, Ctx extends WaitUntilContext, H extends TrackedHandlers<Env, Ctx>>(
  options: WithTrackerOptions | ((env: Env) => WithTrackerOptions),
  handlers: H,
): WrappedHandlers<Env, Ctx, H> {
  const resolve = (env: Env, scheduled: boolean): InvocationTrackerOptions => {
    const { drainOnFetch = defaults.drain, ...rest } = typeof options === 'function' ? options(env) : options;
    return { ...rest, drain: scheduled || drainOnFetch };
  };
  const { fetch, scheduled } = handlers;
  const wrapped = {
    ...handlers,
    async scheduled(controller: ScheduledControllerLike, env: Env, ctx: Ctx): Promise<void> {
      const invocation = createInvocationTracker(resolve(env, true));
      try {
        await scheduled?.call(handlers, controller, env, ctx, invocation.tracker);
      } finally {
        ctx.waitUntil(invocation.finish());
      }
    },
  };
  if (!fetch) return wrapped as WrappedHandlers<Env, Ctx, H>;
  return {
    ...wrapped,
    async fetch(request: Request, env: Env, ctx: Ctx): Promise<Response> {
      const invocation = createInvocationTracker(resolve(env, false));
      try {
        return await fetch.call(handlers, request, env, ctx, invocation.tracker);
      } finally {
        // Registered once the handler is done, so the response is not held up. Called on ctx
        // itself: a detached `waitUntil` throws "Illegal invocation" in workerd.
        ctx.waitUntil(invocation.finish());
      }
    },
  } as WrappedHandlers<Env, Ctx, H>;
}
