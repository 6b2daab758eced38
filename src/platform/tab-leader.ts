import type { Integration, TrackerCore } from '../integration.js';
import { followers } from './followers.js';
import { findLeases, followReceipts } from './lease-receipts.js';

// Posted between tabs, which may run different builds: its field must never be on rollup.config.mjs's
// mangled list (`acked` was, so the script tag posted a renamed field no other build could read).
interface AckMessage {
  outboxAcked?: unknown;
}

/**
 * One sending tab per origin and tracker name. Tabs share one IndexedDB outbox; the tab holding
 * the Web Lock `outbox:<name>:sender` sends for all, the others only append (their writes nudge
 * it through the storage's `watch()`). The browser releases the lock when its tab closes or dies,
 * and the next waiting tab takes over: it reloads storage as the truth and sends what is there,
 * in-flight batches of the dead tab once their lease expires. The sender tells the other tabs what
 * was acknowledged, so they drop their memory copies.
 *
 * Without Web Locks (insecure contexts, old Safari and Firefox) every tab sends: events are never
 * lost, and leases keep a tab off another's batches in flight, but a tab that opens may send events
 * another live tab also sends; the collector de-duplicates them by id. Without shared storage
 * (memory, IndexedDB unusable) every tab sends its own events.
 */
export const tabCoordination: Integration = (core) => {
  if (!core.options.coordinateTabs) return;
  const stops: (() => void)[] = [];
  let stopped = false;
  // Nothing is sent before storage is ready anyway; until we know who sends, this tab does not.
  core.setSending(false);
  void core.ready.then(() => {
    if (!stopped) coordinate(core, stops);
  });
  return () => {
    stopped = true;
    stops.splice(0).forEach((stop) => stop());
  };
};

function coordinate(core: TrackerCore, stops: (() => void)[]): void {
  const { name } = core.options;
  const storage = core.storage;
  const locks = globalThis.navigator?.locks;
  if (!storage?.watch || typeof BroadcastChannel !== 'function') return sendAlone(core);

  let leader = false;
  const channel = new BroadcastChannel(`outbox:${name}:acks`);
  channel.onmessage = (event: MessageEvent<AckMessage>) => {
    const ids = event.data?.outboxAcked;
    if (typeof ids === 'string') core.forget(JSON.parse(ids) as string[]);
  };
  // Acknowledgements go out at most every 100 ms as one JSON string: cloning an array
  // of 100 ids per batch cost 16 % of the sender's CPU with no other tab listening (bench/).
  let acked: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const post = () => {
    timer = undefined;
    channel.postMessage({ outboxAcked: JSON.stringify(acked) } satisfies AckMessage);
    acked = [];
  };
  const announce = (ids: readonly string[]) => {
    acked.push(...ids);
    timer ??= setTimeout(post, 100);
  };
  stops.push(
    () => {
      clearTimeout(timer);
      if (acked.length) post();
      channel.close();
    },
    core.onAcknowledged((ids) => leader && announce(ids)),
  );
  if (!locks?.request) {
    leader = true;
    return sendAlone(core);
  }
  stops.push(storage.watch(coalesce(() => (leader ? (roles(), core.rescan()) : undefined))));

  const abort = new AbortController();
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  stops.push(() => {
    abort.abort();
    release();
    followers.delete(core);
  });
  const lock = `outbox:${name}:sender`;
  // Who sends what storage holds if this tab goes: the live sender, while this tab waits for the
  // lock; the next sender, while this sender has tabs waiting (asked whenever one nudges). The
  // unload path leaves it to that tab: a closing sender's unload request whose lease never landed
  // (Firefox drops the IndexedDB write at close) was sent again (issue 12).
  // The role at the time of asking: a waiting tab's own request is among the pending ones.
  const roles = (sender = leader) => locks.query?.().then((state) => sender === leader && ((sender ? state.pending : state.held)?.some((l) => l.name === lock) ? followers.add(core) : followers.delete(core)), () => undefined);
  locks
    .request(lock, { signal: abort.signal }, async () => {
      if (abort.signal.aborted) return;
      leader = true;
      followers.delete(core);
      // Requests of closed pages (unload requests, batches in flight) are leased: the collector's
      // receipts say which arrived, instead of a re-send (a duplicate) or a wait for the lease.
      const leases = await findLeases(core);
      await core.resync();
      core.setSending(true);
      void roles();
      // What a receipt acknowledged leaves the other tabs too (their copies would wait forever).
      if (!abort.signal.aborted) stops.push(followReceipts(core, leases, announce));
      return held; // kept for the tab's life: the browser releases it when the tab goes
    })
    .catch(() => {
      followers.delete(core);
      // Aborted: the tracker closed while waiting. Anything else (an opaque origin refuses
      // locks): this tab cannot be elected, so it sends on its own rather than never.
      if (abort.signal.aborted) return;
      leader = true;
      sendAlone(core);
    });
  void roles();
}

function sendAlone(core: TrackerCore): void {
  void core.rescan().then(() => core.setSending(true));
}

// Runs `task` now, or once more after the run under way: nudges that come in bursts (one per
// tick of every other tab) cost at most one rescan at a time, and at most one waits behind it.
function coalesce(task: () => Promise<void> | undefined): () => void {
  let queued: boolean | undefined;
  let chain: Promise<void> = Promise.resolve();
  const run = () => {
    queued = false;
    return task();
  };
  return () => {
    if (!queued) (queued = true), (chain = chain.then(run, run));
  };
}
