// When the outbox (outbox.ts) writes again after a failed write tick: a pure delay, applied on the
// tracker's timers through `OutboxSettings.retry`.

/**
 * Milliseconds before the write after the `failures`-th failed tick in a row: 100 ms doubling to
 * 51.2 s. Storage that keeps failing is tried 4 times in the first second (t = 0, 0.1, 0.3, 0.7 s),
 * then ever more rarely, at most once a minute: a storage broken for hours must not wake every
 * tab every few seconds (with a 3.2 s cap the simulation's idle hours ran twice as long). No
 * jitter: the only contenders are this origin's few tabs.
 */
export const writeRetryDelay = (failures: number): number => 100 << Math.min(failures - 1, 9);
