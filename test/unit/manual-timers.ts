// Timers on a manual clock for the unit tests of scheduling: `advance` fires what is due, in
// order of due time, letting promises settle between firings, and counts the wake-ups.

/** Options of {@link manualTimers}. */
export interface ManualTimersOptions {
  /** The clock's first reading. @default 0 */
  start?: number;
  /** Macrotask turns let run after each firing (promise chains settle). @default 1 */
  settleTicks?: number;
  /**
   * Reads inside a firing timer's callback that lag 1 ms behind the time it fired at (Node's
   * timers run on a monotonic clock, `Date.now()` may read a millisecond earlier). @default 0
   */
  lagReads?: number;
}

export function manualTimers({ start = 0, settleTicks = 1, lagReads = 0 }: ManualTimersOptions = {}) {
  let time = start;
  let lagLeft = 0;
  let nextHandle = 1;
  let wakeups = 0;
  const pending = new Map<number, { at: number; callback: () => void }>();
  const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
  const settle = async () => {
    for (let i = 0; i < settleTicks; i++) await tick();
  };
  return {
    now: () => (lagLeft > 0 ? (lagLeft--, time - 1) : time),
    pending,
    get wakeups() {
      return wakeups;
    },
    timers: {
      setTimeout: (callback: () => void, delayMs: number) => (pending.set(nextHandle, { at: time + delayMs, callback }), nextHandle++),
      clearTimeout: (handle: unknown) => void pending.delete(handle as number),
    },
    tick,
    async advance(ms: number): Promise<void> {
      const target = time + ms;
      await settle();
      for (;;) {
        const due = [...pending.entries()].filter(([, t]) => t.at <= target).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
        if (!due) break;
        pending.delete(due[0]);
        time = Math.max(time, due[1].at);
        wakeups++;
        lagLeft = lagReads;
        due[1].callback();
        lagLeft = 0;
        await settle();
      }
      time = target;
      await tick();
    },
  };
}
