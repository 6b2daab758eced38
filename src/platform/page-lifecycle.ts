import { OutboxError } from '../errors.js';
import type { QueuedEvent } from '../event.js';
import type { Integration } from '../integration.js';
import { createUnloadTransport, type UnloadSent } from '../transport/beacon.js';
import { followers } from './followers.js';
import { ownUnloadRids, unloadLeases } from './unload-leases.js';
import { askReceipt, receiptSettleMs } from '../receipts.js';

/**
 * How long events handed to the browser at unload stay held back (in memory, and leased in
 * storage for the next page). A beacon's `true` only means queued: offline, Chromium returns true
 * and drops it (toolchain.md). After this, a normal request sends them again and the collector
 * drops the copy by id; that request's acknowledgement is what takes them out of the outbox.
 */
export const unloadLeaseMs = 10_000;

/** After a mere hide, events tracked within this long (the app's own handlers) still leave at once. */
const lateHideMs = 100;

/** How often the deferred `fetchLater` request is brought up to date with the queue, at most. */
export const deferRefreshMs = 1000;

/**
 * Delivers what is queued when the page goes away, in one budgeted request.
 * - `visibilitychange` to hidden (the last event a mobile browser reliably fires) and `pagehide`
 *   send synchronously; never `unload`, which keeps a page out of the back/forward cache.
 * - Where `fetchLater()` exists, one deferred request holding the head of the queue is kept up to
 *   date while the page lives, so a crash or a killed tab still delivers it.
 * - `pageshow` from the back/forward cache resumes sending.
 * Events that do not fit stay queued (and stored) for later or for the next page.
 */
export const pageLifecycle: Integration = (core) => {
  // Installed by platformDefaults only where window and document exist.
  if (!core.options.unload) return;
  const { options } = core;
  const transport = createUnloadTransport(options);
  // Events this page handed to the browser, and until when they are held back.
  const handed = new WeakMap<QueuedEvent, number>();
  // Events an unload request had no room for since the page was last visible. Hidden and pagehide
  // often fire together: the second sends only what was tracked in between, never the leftovers
  // of the first (that would be chunking, which overruns the quota: Segment, Snowplow #1355).
  let leftBehind = new WeakSet<QueuedEvent>();

  // Events only memory holds go first, then the oldest: what storage already holds reaches the
  // next page anyway, while the last tick's events may not have been written yet (a CI run lost
  // one: the unload request, cut at maxBatchEvents, carried only older, already stored events).
  // `limit`: the deferred request, rebuilt every second, needs no more than one request's worth
  // (maxBatchEvents), so that walk stops early and keeps no more (with several streams queued it
  // may then hold fewer events; the unload path proper cuts again from every candidate, and marks
  // what it leaves behind, so the page's next unload event does not send it in a second chunk).
  // Stored events of a request in flight never go: that request has usually arrived (its body
  // left at once), and its lease, written as it started, lets the next sender ask its receipt.
  // Sent again, they doubled it at each tab close (100-200 of 3,000 across three tabs) and at a
  // reload just back online (20 of 20, issue 12). `includeInFlight`: those only memory holds go.
  function candidates(includeInFlight: boolean, limit = Infinity): QueuedEvent[] {
    const now = options.now();
    const memoryOnly: QueuedEvent[] = [];
    const stored: QueuedEvent[] = [];
    // A tab waiting on a live sending tab leaves what storage holds to that tab (no duplicates).
    const follower = followers.has(core);
    core.pending((event, inFlight, isStored) => {
      if ((isStored ? !inFlight && !follower : !inFlight || includeInFlight) && !(handed.get(event)! > now) && !leftBehind.has(event)) {
        if (!isStored) memoryOnly.push(event);
        else if (stored.length < limit) stored.push(event);
      }
      return memoryOnly.length >= limit;
    });
    return memoryOnly.concat(stored);
  }

  // The lease goes to IndexedDB (through the core) and to localStorage: at pagehide only the
  // synchronous localStorage write is sure to land in every engine (WebKit drops the other).
  function hold({ events, rid, reply }: Pick<UnloadSent, 'events' | 'rid' | 'reply'>): void {
    const now = options.now();
    const until = now + unloadLeaseMs;
    for (const event of events) handed.set(event, until);
    ownUnloadRids.add(rid);
    core.holdBack(events, until, rid);
    unloadLeases(options, (leases) => [...leases, { rid, until, ids: events.map((e) => e.id), stream: events[0]!.stream }]);
    // When the page lives on (hidden, not gone), a keepalive fetch's 2xx is delivery; for a
    // beacon or fetchLater, which answer nothing, the collector's receipt is asked a little later.
    // Either way the events are acknowledged instead of sent again when the hold-back ends.
    // The reply's (or receipt's) `ruled` ids are counted dropped by rule, not sent.
    void (reply ?? receiptLater(rid, events[0]!.stream)).then((body) => {
      if (!body) return;
      unloadLeases(options, (leases) => leases.filter((lease) => lease.rid !== rid));
      core.acknowledge(events, body);
    });
  }

  // Resolves with the receipt (wire.ts ReceiptReply, with its `ruled` ids) when it says received, else false.
  async function receiptLater(rid: string, stream: string): Promise<unknown> {
    if (options.transport) return false;
    let receipt: unknown;
    await new Promise((resolve) => setTimeout(resolve, receiptSettleMs));
    return (await askReceipt(options, stream, rid, (reply) => (receipt = reply))) === true && receipt;
  }

  // A deferred request the browser sent on its own (it may, for example on entering the
  // back/forward cache) counts as handed over.
  function collectActivated(): void {
    const sent = transport.takeActivated();
    if (sent) hold(sent);
  }

  /**
   * The unload path proper. Synchronous: async work started in `pagehide` never completes
   * (toolchain.md), so everything sent comes from memory.
   * `includeInFlight`: at `pagehide` the page's ordinary requests are about to be cancelled, so
   * those of their events that storage does not hold go too; when merely hidden, they carry on.
   */
  function sendNow(includeInFlight: boolean): void {
    collectActivated();
    const events = candidates(includeInFlight);
    // Nothing to send now: nor may the deferred request, or the browser sends it at teardown with
    // no lease for the next sender to find (CI, Chromium: a closing sender that leaves its stored
    // events to the next one still had them deferred from before they were stored; 100 duplicates).
    if (!events.length) return transport.cancel();
    // Offline, Chromium's sendBeacon returns true and drops the data (toolchain.md): keep the
    // events instead. The flag is only a hint (Sentry #6403); a wrong "online" costs a lease.
    const offline = navigator.onLine === false;
    const sent = offline ? undefined : transport.send(events);
    if (sent) hold(sent);
    const left = events.length - (sent?.events.length ?? 0);
    if (left) {
      const carried = new Set(sent?.events);
      for (const event of events) if (!carried.has(event)) leftBehind.add(event);
      const why = offline ? 'offline' : sent ? `${sent.events.length} went by ${sent.path}, ${sent.bytes} B` : 'none sent';
      core.report(new OutboxError('unload', `page hidden, ${left} stay queued (${why})`));
    }
  }

  function refreshDeferred(): void {
    collectActivated();
    if (!transport.defer(candidates(true, options.maxBatchEvents))) stopRefresh();
  }

  // Once the page hides, events tracked later (the app's own visibilitychange and pagehide
  // listeners run after ours) go in their own small request, one per microtask: the request above
  // has left, and an IndexedDB write started now may never complete.
  let hiding: boolean | undefined; // set while hidden: whether pagehide came (in-flight events go too)
  let hiddenAt = 0;
  let lateQueued = false;
  const sendLate = () => {
    lateQueued = false;
    if (hiding !== undefined) sendNow(hiding);
  };
  const stopTracked = core.onTracked(() => {
    if (hiding === undefined || lateQueued || (!hiding && options.now() - hiddenAt > lateHideMs)) return;
    lateQueued = true;
    queueMicrotask(sendLate);
  });
  // After pagehide, until pageshow. When merely hidden, only for the handlers of the same event
  // (lateHideMs): a background tab then sends as usual, not a request per event. Timed, not by a
  // timer: Firefox throttles a background tab's timers for seconds, and a hidden tab that was not
  // the sender sent every event tracked meanwhile by keepalive, racing its own writes (issue 12).
  const hide = (pagehide: boolean) => {
    hiding = pagehide || !!hiding;
    hiddenAt = options.now();
    sendNow(pagehide);
  };
  const show = () => {
    hiding = undefined;
    leftBehind = new WeakSet();
  };
  const onVisibilityChange = () => (document.visibilityState === 'hidden' ? hide(false) : show());
  const onPageHide = () => hide(true);
  const onPageShow = (event: PageTransitionEvent) => {
    show();
    if (event.persisted) core.wake();
  };

  // WebKit leaves a document that has not finished loading with beforeunload alone: no pagehide,
  // no visibilitychange (measured, WebKitGTK 2.50). Listened to only until load, which keeps the
  // page eligible for the back/forward cache.
  const onBeforeUnload = () => sendNow(true);
  const stopBeforeUnload = () => {
    removeEventListener('beforeunload', onBeforeUnload);
    removeEventListener('load', stopBeforeUnload);
  };
  if (document.readyState !== 'complete') {
    addEventListener('beforeunload', onBeforeUnload);
    addEventListener('load', stopBeforeUnload);
  }
  document.addEventListener('visibilitychange', onVisibilityChange);
  addEventListener('pagehide', onPageHide);
  addEventListener('pageshow', onPageShow);
  // Where fetchLater exists, the deferred request follows the queue. Polled rather than pushed:
  // the tracker has no change events, and this costs one pass over the queue per second.
  let refresh: ReturnType<typeof setInterval> | undefined;
  const stopRefresh = () => clearInterval(refresh);
  if (typeof (globalThis as { fetchLater?: unknown }).fetchLater === 'function') refresh = setInterval(refreshDeferred, deferRefreshMs);
  // An acknowledged event must not stay in the deferred request: the browser would send it again
  // at teardown (seen within a second of the last acknowledgement). The next refresh rebuilds it.
  const stopAcks = core.onAcknowledged(transport.withdrawIfHolding);

  return () => {
    document.removeEventListener('visibilitychange', onVisibilityChange);
    removeEventListener('pagehide', onPageHide);
    removeEventListener('pageshow', onPageShow);
    stopRefresh();
    stopAcks();
    stopTracked();
    stopBeforeUnload();
    transport.cancel();
  };
};
