/**
 * `flush()` calls waiting for the events queued before them to leave the queue (acknowledged or
 * dropped). The tracker numbers events in arrival order (`seq`; events loaded from storage get
 * numbers below all of its own), and a flush waits for everything numbered below its `upTo`.
 */
export interface FlushWaiters {
  /** Resolves true once nothing numbered below `upTo` is left, false after `timeoutMs`. */
  wait(upTo: number, timeoutMs: number): Promise<boolean>;
  /** Resolves every waiter that nothing in `queue` (the events still queued) keeps waiting. */
  settle(queue: Iterable<{ seq: number }>): void;
}

/** The timer functions a {@link FlushWaiters} uses (the tracker's injectable `timers`). */
export interface WaiterTimers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Creates the waiting list of `flush()` calls; its timeouts run on `timers` (a simulated clock in
 * tests), by default the platform's (called as methods of the global object, which they are).
 */
export function createFlushWaiters(timers: WaiterTimers = globalThis as unknown as WaiterTimers): FlushWaiters {
  let waiters: { upTo: number; resolve: (done: boolean) => void }[] = [];
  return {
    wait(upTo, timeoutMs) {
      return new Promise<boolean>((resolve) => {
        const timeout = timers.setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          resolve(false);
        }, timeoutMs);
        const waiter = { upTo, resolve: (done: boolean) => (timers.clearTimeout(timeout), resolve(done)) };
        waiters.push(waiter);
      });
    },
    settle(queue) {
      if (!waiters.length) return;
      // The oldest event is almost always first: stop at one that keeps every waiter waiting.
      const lowest = Math.min(...waiters.map((waiter) => waiter.upTo));
      let oldest = Infinity;
      for (const { seq } of queue) {
        if (seq < lowest) return;
        oldest = Math.min(oldest, seq);
      }
      waiters = waiters.filter((waiter) => oldest < waiter.upTo || void waiter.resolve(true));
    },
  };
}
