// The simulated clock every history runs on. It replaces the timer globals, `Date.now`,
// `AbortSignal.timeout` and `crypto.getRandomValues` for the length of one history, so the
// tracker's own timers, request timeouts, flush waits and ids all follow simulated time and the
// history's seed: a failing history replays exactly from its seed.

/** Node's clamp: a delay that is NaN, below 1 or above 2^31-1 ms becomes 1 ms (browsers overflow too). */
const maxDelay = 2 ** 31 - 1;

interface Timer {
  id: number;
  at: number;
  seq: number;
  fn: () => void;
  every?: number;
  /** Set by the simulation's own parts (network, storage latency): not the tracker's wake-ups. */
  internal: boolean;
}

/** A seeded PRNG (mulberry32): the same seed gives the same stream on every machine. */
export function prng(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The simulated clock of one history (see {@link createSimClock}). */
export interface SimClock {
  /** Monotonic simulated time, ms: what timers follow. */
  monotonic(): number;
  /** Wall-clock time, ms: monotonic plus the jumps so far. `Date.now` and the tracker's `now`. */
  wall(): number;
  /** Moves the wall clock (NTP, a user changing the time zone badly): timers are not affected. */
  jump(ms: number): void;
  /** A timer of the simulation itself (network or storage latency): not counted as a wake-up. */
  after(ms: number, fn: () => void): () => void;
  /**
   * Runs every timer due within `ms` in order, letting promises settle between them. More than
   * `perSecond` wake-ups of the code under test per simulated second (plus the fixed allowance
   * the clock was created with) mark the history as spinning.
   */
  advance(ms: number, perSecond?: number): Promise<void>;
  /** Lets pending promise chains run to completion without moving time. */
  settle(): Promise<void>;
  /** Timer callbacks of the code under test run so far. */
  readonly wakeups: number;
  /** Set when one `advance` ran more wake-ups than any sane tracker needs (a spinning timer). */
  readonly spinning: string | undefined;
  /** Timers of the code under test still armed. */
  pendingTimers(): number;
  /** Replaces the globals; returns the function that restores them. */
  install(): () => void;
}

// The real ones, captured before any history replaces them.
const realSetImmediate = globalThis.setImmediate;

/** Yields to the event loop once: every queued microtask (promise reaction) has run after it. */
export function macrotask(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(resolve));
}

/**
 * Creates a simulated clock starting at `start` (epoch ms) whose ids and randomness come from
 * `seed`. `spinLimit` is the fixed allowance of timer wake-ups of one `advance` call, on top of
 * its per-second budget, before the history is declared spinning (a timer re-armed at 1 ms forever).
 */
export function createSimClock(start: number, seed: number, spinLimit = 20_000): SimClock {
  const timers: Timer[] = [];
  let time = 0;
  let skew = start;
  let seq = 0;
  let nextId = 1;
  let wakeups = 0;
  let spinning: string | undefined;
  const random = prng(seed ^ 0x5eed);

  function add(delay: unknown, fn: () => void, internal: boolean, every?: number): number {
    let ms = Number(delay);
    if (!(ms >= 1 && ms <= maxDelay)) ms = 1;
    const timer: Timer = { id: nextId++, at: time + Math.floor(ms), seq: seq++, fn, internal };
    if (every !== undefined) timer.every = ms;
    timers.push(timer);
    return timer.id;
  }

  function cancel(id: unknown): void {
    const index = timers.findIndex((timer) => timer.id === id);
    if (index >= 0) timers.splice(index, 1);
  }

  function nextDue(limit: number): Timer | undefined {
    let best: Timer | undefined;
    for (const timer of timers) {
      if (timer.at > limit) continue;
      if (!best || timer.at < best.at || (timer.at === best.at && timer.seq < best.seq)) best = timer;
    }
    return best;
  }

  async function settle(): Promise<void> {
    // Two turns: a reaction scheduled from a macrotask-free chain (a Response body read) may need one more.
    await macrotask();
    await macrotask();
  }

  return {
    monotonic: () => time,
    wall: () => time + skew,
    jump(ms) {
      skew += ms;
    },
    after(ms, fn) {
      const id = add(Math.max(1, ms), fn, true);
      return () => cancel(id);
    },
    async advance(ms, perSecond = 0) {
      const target = time + Math.max(0, ms);
      const limit = spinLimit + Math.ceil((perSecond * Math.max(0, ms)) / 1000);
      let fired = 0;
      await settle();
      for (;;) {
        const timer = nextDue(target);
        if (!timer) break;
        time = Math.max(time, timer.at);
        if (timer.every !== undefined) {
          timer.at = time + timer.every;
          timer.seq = seq++;
        } else timers.splice(timers.indexOf(timer), 1);
        if (!timer.internal) {
          wakeups++;
          if (++fired > limit) {
            spinning = `more than ${limit} timer wake-ups within ${ms} simulated ms (at ${time} ms)`;
            return;
          }
        }
        try {
          timer.fn();
        } catch {
          // A timer callback that throws is an uncaught exception in a real runtime; the
          // history's unhandled-error check sees the ones that escape promise chains.
        }
        await settle();
      }
      time = target;
      await settle();
    },
    settle,
    get wakeups() {
      return wakeups;
    },
    get spinning() {
      return spinning;
    },
    pendingTimers: () => timers.filter((timer) => !timer.internal).length,
    install() {
      const saved = {
        setTimeout: globalThis.setTimeout,
        clearTimeout: globalThis.clearTimeout,
        setInterval: globalThis.setInterval,
        clearInterval: globalThis.clearInterval,
        now: Date.now,
        timeout: AbortSignal.timeout,
      };
      const g = globalThis as Record<string, unknown>;
      g.setTimeout = (fn: () => void, delay?: number) => add(delay, fn, false);
      g.clearTimeout = cancel;
      g.setInterval = (fn: () => void, delay?: number) => add(delay, fn, false, Math.max(1, Number(delay) || 1));
      g.clearInterval = cancel;
      Date.now = () => time + skew;
      // As Node and browsers do: a delay that is not a uint32 throws (timeoutMs: Infinity).
      AbortSignal.timeout = (ms: number) => {
        if (!(Number.isInteger(ms) && ms >= 0 && ms <= 2 ** 32 - 1)) throw new RangeError(`The value of "delay" is out of range. Received ${ms}`);
        const controller = new AbortController();
        add(ms, () => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), false);
        return controller.signal;
      };
      Object.defineProperty(globalThis.crypto, 'getRandomValues', {
        configurable: true,
        writable: true,
        value: <T extends ArrayBufferView | null>(array: T): T => {
          if (array instanceof Uint8Array) for (let i = 0; i < array.length; i++) array[i] = Math.floor(random() * 256);
          return array;
        },
      });
      return () => {
        Object.assign(globalThis, {
          setTimeout: saved.setTimeout,
          clearTimeout: saved.clearTimeout,
          setInterval: saved.setInterval,
          clearInterval: saved.clearInterval,
        });
        Date.now = saved.now;
        AbortSignal.timeout = saved.timeout;
        delete (globalThis.crypto as unknown as Record<string, unknown>).getRandomValues;
      };
    },
  };
}
