import type { OutboxError } from './errors.js';
import type { StatsCounters } from './stats.js';

/** Errors passed to `onError` per outermost call: past it, one that keeps re-entering is cut off (counted). */
export const maxReportsPerCall = 1000;

/**
 * The one safe way to call the host's `onError`. Errors are queued and delivered in a loop, never
 * by recursion: an `onError` that calls `track()` while the queue is full (each track evicting,
 * each eviction reporting) stays one frame deep, and past {@link maxReportsPerCall} errors in one outermost
 * call the rest are counted in `counters.unreportedErrors` (`stats().unreportedErrors`) instead. A callback
 * that throws is ignored: the host's error handler failing must not break delivery, nor reach
 * `track()`'s caller.
 */
export function createReporter(
  onError: ((error: OutboxError) => void) | undefined,
  counters?: Pick<StatsCounters, 'unreportedErrors'>,
): (error: OutboxError) => void {
  const queue: OutboxError[] = [];
  let reporting = false;
  return (error) => {
    if (!onError) return;
    queue.push(error);
    if (reporting) return;
    reporting = true;
    for (let delivered = 0, next; (next = queue.shift()); delivered++) {
      try {
        if (delivered < maxReportsPerCall) onError(next);
        else if (counters) counters.unreportedErrors++;
      } catch {
        // ignored: see above
      }
    }
    reporting = false;
  };
}
