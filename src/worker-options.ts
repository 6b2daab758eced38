import type { TrackerOptions } from './options.js';
import type { StorageAdapter } from './storage/storage.js';

/**
 * Options of `createInvocationTracker` (outbox/worker): the tracker's own options (`endpoint`,
 * `sourceId`, `transport`, `onError`...) plus the Worker's. No `storage`: an invocation keeps its
 * events in memory and spills what is left to `spill`.
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

/** The defaults of the Worker options, in one place. */
export const workerDefaults = { flushTimeoutMs: 10_000, drain: true, maxDrainChunks: 10 } as const;
