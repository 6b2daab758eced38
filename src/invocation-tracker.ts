import { OutboxError } from './errors.js';
import { drainSpill } from './drain-spill.js';
import { serverPlatform } from './integration.js';
import { readOutboxRecords } from './outbox-records.js';
import { createReporter } from './reporter.js';
import { spillRecords } from './spill.js';
import type { TrackerStats } from './stats.js';
import { createMemoryStorage } from './storage/memory.js';
import { createTrackerOn, type Tracker } from './tracker.js';
import { workerDefaults, type InvocationTrackerOptions } from './worker-options.js';

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

/**
 * Creates a tracker for one invocation (a request, a cron run, a queue batch). Never share one
 * across requests: workerd forbids using one request's I/O from another.
 */
export function createInvocationTracker(options: InvocationTrackerOptions): InvocationTracker {
  const { spill, flushTimeoutMs = workerDefaults.flushTimeoutMs, drain = workerDefaults.drain, maxDrainChunks, ...trackerOptions } = options;
  const now = trackerOptions.now ?? Date.now;
  const report = createReporter(trackerOptions.onError);
  // The core keeps every event in its storage until acknowledged or dropped: a memory storage of
  // ours, read back through the outbox's own seam, tells exactly what is left to spill.
  const memory = createMemoryStorage();
  const tracker = createTrackerOn(serverPlatform, { ...trackerOptions, storage: memory });
  let finishing: Promise<Delivery> | undefined;

  async function finishOnce(): Promise<Delivery> {
    let delivered = false;
    let spilled = 0;
    let lost = 0;
    let drained = 0;
    try {
      const flushed = await tracker.close(flushTimeoutMs);
      // What the tracker still holds once closed: not acknowledged in time, or tracked during the
      // flush and still in flight (a request the end of the invocation may cut off).
      const left = await readOutboxRecords(memory);
      delivered = left.length === 0;
      if (left.length) ({ spilled, lost } = await spillRecords(spill, left, now, report));
      // Drain only when the collector just took this invocation's events: else it would fail too.
      if (flushed && spill && drain) drained = await drainSpill({ ...trackerOptions, spill, flushTimeoutMs, maxDrainChunks });
    } catch (error) {
      report(new OutboxError('storage', 'spilling or draining failed', { cause: error }));
    }
    return { delivered, spilled, drained, lost, stats: tracker.stats() };
  }

  return { tracker, finish: () => (finishing ??= finishOnce()) };
}
