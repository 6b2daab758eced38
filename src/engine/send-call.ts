import { cutBatch, type BatchLimits } from '../batch.js';
import { OutboxError } from '../errors.js';
import { maxTimerDelayMs, type ResolvedOptions } from '../options.js';
import type { StatsCounters } from '../stats.js';
import type { TrackOptions } from '../event.js';
import type { Intake } from './intake.js';
import type { Entry, QueueModel } from './queue-model.js';
import type { Scheduler } from './scheduler.js';

/** An event handed to `send()`: like `track()`'s arguments, in one object. */
export interface SendEventInput extends TrackOptions {
  name: string;
  properties?: Record<string, unknown>;
}

/** How a `send()` ended. */
export interface SendResult {
  /** Events the collector acknowledged. */
  sent: number;
  /** Events dropped (invalid, rejected, too large, ruled, expired), each also reported through `onError`. */
  dropped: number;
  /** Events still queued when the timeout came; the tracker keeps retrying them. */
  pending: number;
}

/**
 * The wait a caller gave send(), flush() or close(): a number of ms up to what a timer can wait,
 * else the default (30 s).
 */
export const waitMs = (ms: unknown): number => (typeof ms === 'number' && ms >= 0 ? Math.min(ms, maxTimerDelayMs) : 30_000);

/**
 * Creates `send()`: these events now, cut by the batch limits whatever the timer and thresholds
 * say, through the same queue and retry policy as `track()`'s.
 */
export function createSendCall(
  options: ResolvedOptions,
  counters: StatsCounters,
  queueModel: QueueModel,
  queueScheduler: Scheduler,
  intake: Intake,
  report: (error: OutboxError) => void,
  batchLimits: BatchLimits,
): (inputs: readonly SendEventInput[], timeoutMs?: number) => Promise<SendResult> {
  return async (inputs, timeoutMs) => {
    // Not an array: reported, and sent as none (nothing sent, dropped or pending).
    let list: unknown[] = [];
    try {
      list = Array.from(inputs as Iterable<unknown>);
    } catch (error) {
      report(new OutboxError('invalid', 'send() needs an array', { cause: error }));
    }
    const entries: Entry[] = [];
    for (const input of list) {
      counters.tracked++;
      try {
        const event = input as SendEventInput | undefined;
        entries.push(intake.admit(event?.name, event?.properties, event));
      } catch (error) {
        intake.refused(error);
      }
    }
    // Queued first, then cut into batches from what the caps kept: an eviction, and an onError
    // that re-enters track(), must never meet a batch not yet in line.
    entries.forEach(intake.storeEntry);
    const kept = entries.filter((e) => !e.gone && !e.batch);
    let open = 0;
    let timeout: unknown;
    // Settles once every batch did, or when the wait the caller gave runs out.
    await new Promise<void>((resolve) => {
      // Each cut holds one stream (the first event's): the rest wait for the next cuts. Batches
      // go in line by their oldest event, whatever order they were cut in.
      for (let rest = kept; rest.length; ) {
        const events = new Set(cutBatch(rest, batchLimits, new Set<string>()));
        rest = rest.filter((e) => !events.has(e));
        const batch = queueModel.newBatch([...events]);
        open++;
        batch.settled = () => --open || resolve();
        queueModel.enqueueBatch(batch);
      }
      if (!open) resolve();
      queueScheduler.soon();
      timeout = options.timers.setTimeout(() => resolve(), waitMs(timeoutMs));
    });
    options.timers.clearTimeout(timeout);
    const sent = entries.filter((e) => e.acked).length;
    const pending = entries.filter((e) => !e.gone).length;
    return { sent, dropped: list.length - sent - pending, pending };
  };
}
