// outbox/worker: delivery from Cloudflare Workers. A Worker may do I/O only for the request that
// started it, and only until its response is sent plus what `ctx.waitUntil` extends (~30 s); a
// timer set for later never fires. So every invocation gets its own tracker and delivers after
// the response through `waitUntil`, and what the collector did not acknowledge in time spills to
// storage (Workers KV) for a later invocation to send. See docs/workers.md.
import { OutboxError, type OutboxEventRecord } from '../errors.js';
import { randomId, utf8Length } from '../event.js';
import type { TrackerOptions } from '../options.js';
import type { TrackerStats } from '../stats.js';
import { createMemoryStorage } from '../storage/memory.js';
import type { StorageAdapter } from '../storage/storage.js';
import { createReporter } from '../reporter.js';
import { createTrackerOn, type Tracker } from '../tracker.js';
import { serverPlatform } from '../integration.js';
import { decodeQueueMessage } from '../transport/queues.js';

/** The part of a Worker's `ExecutionContext` outbox uses. */
export interface WaitUntilContext {
  waitUntil(promise: Promise<unknown>): void;
}

/**
 * Options of {@link createInvocationTracker}: the tracker's own options (`endpoint`, `sourceId`,
 * `transport`, `onError`...) plus the Worker's. No `storage`: an invocation keeps its events in
 * memory and spills what is left to `spill`.
 */
export interface InvocationTrackerOptions extends Omit<TrackerOptions, 'storage'> {
  /**
   * Where events the collector did not acknowledge in time go, for a later invocation to send:
   * usually `createWorkersKvStorage(env.OUTBOX_KV)`. Without it they are reported through
   * `onError` (code `storage`, with the events) and lost.
   * @default undefined
   */
  spill?: StorageAdapter;
  /**
   * Time to deliver this invocation's events, and again to drain earlier spills. Both run inside
   * `waitUntil`, which allows about 30 s after the response: keep twice this under it.
   * @default 10000
   */
  flushTimeoutMs?: number;
  /** After a successful delivery, send what earlier invocations spilled (a KV `list` each time). @default true */
  drain?: boolean;
  /** Spilled chunks one drain sends at most (a Worker may make 1000 KV operations an invocation). @default 10 */
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
  /** The invocation's tracker: `track()` into it, never keep it beyond the invocation. */
  readonly tracker: Tracker;
  /**
   * Delivers, spills what is left, drains earlier spills. Hand it to `ctx.waitUntil` once the
   * response is ready; it never rejects, and calling it again returns the same promise. An event
   * tracked while it runs is delivered or spilled; one tracked after it ended is refused
   * (`invalid`), as after `close()`.
   */
  finish(): Promise<Delivery>;
}

/** The defaults of the Worker options, in one place. */
export const workerDefaults = { flushTimeoutMs: 10_000, drain: true, maxDrainChunks: 10 } as const;

const chunkPrefix = 'c:'; // the core outbox's chunk keys: what the memory storage holds undelivered
// A spilled chunk is cut at this size, so a drain that stops half-way re-sends at most this much.
const maxSpillChunkBytes = 1024 * 1024;

/**
 * Creates a tracker for one invocation (a request, a cron run, a queue batch). Never share one
 * across requests: workerd forbids using one request's I/O from another.
 */
export function createInvocationTracker(options: InvocationTrackerOptions): InvocationTracker {
  const { spill, flushTimeoutMs = workerDefaults.flushTimeoutMs, drain = workerDefaults.drain, maxDrainChunks, ...trackerOptions } = options;
  const now = trackerOptions.now ?? Date.now;
  const report = createReporter(trackerOptions.onError);
  // The core keeps every event in its storage until acknowledged or dropped: a memory map of ours
  // tells exactly what is left to spill, through the public API only.
  const memory = new Map<string, string>();
  const tracker = createTrackerOn(serverPlatform, { ...trackerOptions, storage: createMemoryStorage(memory) });
  let finishing: Promise<Delivery> | undefined;

  // What the tracker still holds once closed: not acknowledged in time, or tracked during the
  // flush and still in flight (a request the end of the invocation may cut off).
  function leftovers(): OutboxEventRecord[] {
    const records: OutboxEventRecord[] = [];
    for (const key of [...memory.keys()].sort()) {
      if (key.startsWith(chunkPrefix)) records.push(...(JSON.parse(memory.get(key)!) as OutboxEventRecord[]));
    }
    return records;
  }

  async function spillRecords(records: readonly OutboxEventRecord[]): Promise<{ spilled: number; lost: number }> {
    let spilled = 0;
    let lost = 0;
    for (const chunk of cutChunks(records)) {
      try {
        if (!spill) throw new Error('no `spill` storage configured');
        // A new key per chunk, never rewritten: KV takes about one write per second per key.
        await spill.set(`${chunkPrefix}${now().toString(36).padStart(9, '0')}:${randomId(10)}`, JSON.stringify(chunk));
        spilled += chunk.length;
      } catch (error) {
        lost += chunk.length;
        report(new OutboxError('storage', `${chunk.length} events were not acknowledged in time and could not be spilled: they are lost`, { events: chunk, cause: error }));
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
      const flushed = await tracker.close(flushTimeoutMs);
      const left = leftovers();
      delivered = left.length === 0;
      if (left.length) ({ spilled, lost } = await spillRecords(left));
      // Drain only when the collector just took this invocation's events: else it would fail too.
      if (flushed && spill && drain) drained = await drainSpill({ ...trackerOptions, spill, flushTimeoutMs, maxDrainChunks });
    } catch (error) {
      report(new OutboxError('storage', 'spilling or draining failed', { cause: error }));
    }
    return { delivered, spilled, drained, lost, stats: tracker.stats() };
  }

  return { tracker, finish: () => (finishing ??= finishOnce()) };
}

function cutChunks(records: readonly OutboxEventRecord[]): OutboxEventRecord[][] {
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

/**
 * Sends chunks spilled by earlier invocations, oldest first, and deletes each one only once all
 * its events were acknowledged (or dropped for a counted reason); stops at the first chunk that
 * does not go through, or after `flushTimeoutMs`. Resolves with the events delivered.
 * `withTracker` calls it; call it yourself from a handler it does not wrap.
 *
 * KV is eventually consistent: a chunk another location deleted a moment ago may still be listed
 * here and sent again. The collector removes such duplicates by event id; nothing is lost.
 */
export async function drainSpill(options: InvocationTrackerOptions & { spill: StorageAdapter }): Promise<number> {
  const { spill, flushTimeoutMs = workerDefaults.flushTimeoutMs, maxDrainChunks = workerDefaults.maxDrainChunks, drain: _drain, ...trackerOptions } = options;
  const now = trackerOptions.now ?? Date.now;
  const deadline = now() + flushTimeoutMs;
  // KV lists keys in order, and the keys start with their time: the first ones are the oldest.
  const keys = (await spill.keys(chunkPrefix)).sort().slice(0, maxDrainChunks);
  if (!keys.length) return 0;
  // Memory only: the KV chunk stays the durable copy until its events are acknowledged.
  const drainer = createTrackerOn(serverPlatform, { ...trackerOptions, storage: false });
  let drained = 0;
  try {
    for (const key of keys) {
      const left = deadline - now();
      if (left <= 0) break;
      const value = await spill.get(key);
      if (value === undefined) continue; // another invocation drained it meanwhile
      const events = parseChunk(value);
      if (!events) {
        createReporter(trackerOptions.onError)(new OutboxError('storage', `spilled chunk "${key}" is unreadable; deleting it`));
        await spill.delete(key);
        continue;
      }
      const result = await drainer.send(events, left);
      if (result.pending) break; // the collector fails again: the chunk waits for a later drain
      await spill.delete(key);
      drained += result.sent;
    }
  } finally {
    await drainer.close(0); // stops its retry timer: nothing may wait for a later tick
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

/** A `fetch` handler that receives the invocation's tracker as a last argument. */
export type TrackedFetch<Env = unknown, Ctx extends WaitUntilContext = WaitUntilContext> = (
  request: Request,
  env: Env,
  ctx: Ctx,
  tracker: Tracker,
) => Response | Promise<Response>;

/** Handlers that receive the invocation's tracker as a last argument; others pass through. */
export interface TrackedHandlers<Env = unknown, Ctx extends WaitUntilContext = WaitUntilContext> {
  fetch?: TrackedFetch<Env, Ctx>;
  scheduled?(controller: ScheduledControllerLike, env: Env, ctx: Ctx, tracker: Tracker): void | Promise<void>;
}

/** Options of {@link withTracker}: {@link InvocationTrackerOptions}, with `drain` per handler. */
export interface WithTrackerOptions extends Omit<InvocationTrackerOptions, 'drain'> {
  /**
   * Also drain spills after each successful `fetch`: a KV `list` per request. Busy Workers with a
   * cron trigger set it false (fewer KV operations, fewer duplicates); `scheduled` always drains.
   * @default true
   */
  drainOnFetch?: boolean;
}

/** What {@link withTracker} returns: a module Worker's handlers, `fetch` and `scheduled` wrapped. */
export type WrappedHandlers<Env, Ctx extends WaitUntilContext, H> = Omit<H, 'fetch' | 'scheduled'> & {
  scheduled(controller: ScheduledControllerLike, env: Env, ctx: Ctx): Promise<void>;
} & (H extends { fetch: unknown } ? { fetch(request: Request, env: Env, ctx: Ctx): Promise<Response> } : unknown);

/**
 * Wraps a module Worker: each `fetch` and `scheduled` invocation gets its own tracker as a last
 * argument; once the handler returned (or threw), its events are delivered through
 * `ctx.waitUntil`, spilled to `spill` if the collector does not acknowledge them in time, and
 * earlier spills are drained. `scheduled` is always exported, so a cron trigger drains even with
 * no handler of yours. Other handlers (`queue`...) pass through unchanged.
 *
 * @param options the options, or a function of `env` returning them (bindings live in `env`)
 * @param handlers a `fetch` function, or an object of handlers
 * @example
 * export default withTracker((env: Env) => ({ endpoint: env.COLLECTOR_ENDPOINT, spill: createWorkersKvStorage(env.OUTBOX_KV) }), {
 *   async fetch(request, env, ctx, tracker) {
 *     tracker.track('page_view', { path: new URL(request.url).pathname });
 *     return new Response('hello'); // the events go out after the response
 *   },
 * });
 */
export function withTracker<Env, Ctx extends WaitUntilContext, H extends TrackedHandlers<Env, Ctx>>(
  options: WithTrackerOptions | ((env: Env) => WithTrackerOptions),
  handlers: H,
): WrappedHandlers<Env, Ctx, H>;
/** The shorthand for a Worker with only a `fetch` handler: `withTracker(options, (request, env, ctx, tracker) => response)`. */
export function withTracker<Env, Ctx extends WaitUntilContext>(
  options: WithTrackerOptions | ((env: Env) => WithTrackerOptions),
  fetch: TrackedFetch<Env, Ctx>,
): WrappedHandlers<Env, Ctx, { fetch: TrackedFetch<Env, Ctx> }>;
export function withTracker<Env, Ctx extends WaitUntilContext>(
  options: WithTrackerOptions | ((env: Env) => WithTrackerOptions),
  handlersOrFetch: TrackedHandlers<Env, Ctx> | TrackedFetch<Env, Ctx>,
): WrappedHandlers<Env, Ctx, TrackedHandlers<Env, Ctx>> {
  const handlers: TrackedHandlers<Env, Ctx> = typeof handlersOrFetch === 'function' ? { fetch: handlersOrFetch } : handlersOrFetch;
  const start = (env: Env, scheduled: boolean): InvocationTracker => {
    const { drainOnFetch = workerDefaults.drain, ...rest } = typeof options === 'function' ? options(env) : options;
    return createInvocationTracker({ ...rest, drain: scheduled || drainOnFetch });
  };
  const { fetch, scheduled } = handlers;
  const wrapped = {
    ...handlers,
    async scheduled(controller: ScheduledControllerLike, env: Env, ctx: Ctx): Promise<void> {
      const invocation = start(env, true);
      try {
        await scheduled?.call(handlers, controller, env, ctx, invocation.tracker);
      } finally {
        ctx.waitUntil(invocation.finish());
      }
    },
  };
  if (!fetch) return wrapped as WrappedHandlers<Env, Ctx, TrackedHandlers<Env, Ctx>>;
  return {
    ...wrapped,
    async fetch(request: Request, env: Env, ctx: Ctx): Promise<Response> {
      const invocation = start(env, false);
      try {
        return await fetch.call(handlers, request, env, ctx, invocation.tracker);
      } finally {
        // Registered once the handler is done, so the response is not held up. Called on ctx
        // itself: a detached `waitUntil` throws "Illegal invocation" in workerd.
        ctx.waitUntil(invocation.finish());
      }
    },
  } as WrappedHandlers<Env, Ctx, TrackedHandlers<Env, Ctx>>;
}
