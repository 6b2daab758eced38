// What tabs of one origin share in a browser, simulated for the real tab coordination
// (src/platform/tab-leader.ts): a Web Locks manager (`navigator.locks`) and `BroadcastChannel`,
// both on the simulated clock, and both releasing what a crashed tab held, as a browser does.
//
// Ownership: tab-leader.ts builds its channel, then calls the storage's `watch()`, then asks for
// the lock, all in one synchronous run. The simulated storage's watch() names its tab
// (`claim(owner)`), which gives that tab the channel just built and the next lock request.
import type { SimClock } from './sim-clock.js';

interface Waiter {
  owner: string;
  grant: () => void;
}

/** The shared browser parts of one history's tabs. */
export interface SimTabs {
  /** Called by a storage handle's watch(): the channel just built and the next lock request are `owner`'s. */
  claim(owner: string): void;
  /** The tab died: its lock passes to the next waiter, its channels go quiet. */
  kill(owner: string): void;
  /** Replaces `navigator` and `BroadcastChannel`; returns the function that restores them. */
  install(): () => void;
}

/** Creates the Web Locks manager and BroadcastChannel shared by one history's tabs. */
export function createSimTabs(clock: SimClock): SimTabs {
  const holders = new Map<string, { owner: string; release: () => void }>();
  const queues = new Map<string, Waiter[]>();
  const channels = new Set<SimChannel>();
  const dead = new Set<string>();
  let owner = '';
  let unclaimed: SimChannel | undefined;

  function grantNext(name: string): void {
    holders.delete(name);
    const queue = queues.get(name) ?? [];
    for (let next = queue.shift(); next; next = queue.shift()) {
      if (dead.has(next.owner)) continue;
      // The browser hands a freed lock over within a few ms (toolchain.md: ~20 ms).
      clock.after(5, next.grant);
      return;
    }
  }

  const locks = {
    request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<unknown>): Promise<unknown> {
      const me = owner;
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          owner: me,
          grant: () => {
            if (dead.has(me)) return grantNext(name);
            options.signal?.removeEventListener('abort', onAbort);
            let released = false;
            const release = () => {
              if (released) return;
              released = true;
              grantNext(name);
            };
            holders.set(name, { owner: me, release });
            new Promise((r) => r(callback())).then(
              (value) => (release(), resolve(value)),
              (error: unknown) => (release(), reject(error)),
            );
          },
        };
        function onAbort() {
          const queue = queues.get(name) ?? [];
          const index = queue.indexOf(waiter);
          if (index >= 0) queue.splice(index, 1);
          reject(new DOMException('The request was aborted.', 'AbortError'));
        }
        if (options.signal?.aborted) return onAbort();
        options.signal?.addEventListener('abort', onAbort, { once: true });
        if (holders.has(name)) {
          queues.set(name, [...(queues.get(name) ?? []), waiter]);
        } else {
          holders.set(name, { owner: me, release: () => undefined });
          clock.after(0, waiter.grant);
        }
      });
    },
  };

  class SimChannel {
    onmessage: ((event: { data: unknown }) => void) | null = null;
    owner = '';
    closed = false;
    constructor(readonly name: string) {
      channels.add(this);
      unclaimed = this;
    }
    postMessage(data: unknown): void {
      if (this.closed || dead.has(this.owner)) return;
      const copy = structuredClone(data);
      for (const other of channels) {
        if (other === this || other.name !== this.name || other.closed || dead.has(other.owner)) continue;
        clock.after(1, () => {
          if (!other.closed && !dead.has(other.owner)) other.onmessage?.({ data: copy });
        });
      }
    }
    close(): void {
      this.closed = true;
      channels.delete(this);
    }
  }

  return {
    claim(name) {
      owner = name;
      if (unclaimed) unclaimed.owner = name;
      unclaimed = undefined;
    },
    kill(name) {
      dead.add(name);
      for (const holder of holders.values()) if (holder.owner === name) holder.release();
    },
    install() {
      const g = globalThis as Record<string, unknown>;
      const saved = { navigator: Object.getOwnPropertyDescriptor(globalThis, 'navigator'), channel: g.BroadcastChannel };
      Object.defineProperty(globalThis, 'navigator', { configurable: true, writable: true, value: { locks } });
      g.BroadcastChannel = SimChannel;
      return () => {
        if (saved.navigator) Object.defineProperty(globalThis, 'navigator', saved.navigator);
        else delete g.navigator;
        g.BroadcastChannel = saved.channel;
      };
    },
  };
}
