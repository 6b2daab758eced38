// @vitest-environment happy-dom
// The page lifecycle's choice of events, against a stand-in core: which events the deferred
// fetchLater request holds, and how much of the queue its per-second refresh walks. The delivery
// paths themselves run in real Chromium (test/browser/unload.test.ts); happy-dom has no
// fetchLater, so a recording stand-in is installed here.
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { QueuedEvent } from '../../src/event.js';
import type { TrackerCore } from '../../src/integration.js';
import { resolveOptions } from '../../src/options.js';
import { followers } from '../../src/platform/followers.js';
import { findLeases } from '../../src/platform/lease-receipts.js';
import { pageLifecycle, deferRefreshMs } from '../../src/platform/page-lifecycle.js';
import { unloadLeases } from '../../src/platform/unload-leases.js';
import { createMemoryStorage } from '../../src/storage/memory.js';

interface Pending {
  event: QueuedEvent;
  inFlight: boolean;
  stored: boolean;
}

let deferred: { url: string; events: string[] }[] = [];

beforeEach(() => {
  vi.useFakeTimers();
  deferred = [];
  (globalThis as { fetchLater?: unknown }).fetchLater = (url: string, init: { body: Uint8Array }) => {
    const body = JSON.parse(new TextDecoder().decode(init.body)) as { events: { id: string }[] };
    deferred.push({ url, events: body.events.map((e) => e.id) });
    return { activated: false };
  };
});
afterEach(() => {
  vi.useRealTimers();
  delete (globalThis as { fetchLater?: unknown }).fetchLater;
});

function event(id: string, stream = ''): QueuedEvent {
  const json = JSON.stringify({ id, name: 'e', timestamp: 1, ...(stream ? { stream } : {}) });
  return { id, name: 'e', sourceId: '', stream, json, bytes: json.length, seq: 0 };
}

/** A core over a fixed queue that counts how many events each walk visits. */
function coreOver(queue: Pending[], maxBatchEvents = 10) {
  const visits: number[] = [];
  const core = {
    options: resolveOptions({ endpoint: 'http://127.0.0.1:1/v1/batch', compression: 'none', maxBatchEvents }),
    pending(visit: (event: QueuedEvent, inFlight: boolean, stored: boolean) => boolean | void) {
      let count = 0;
      for (const { event, inFlight, stored } of queue) {
        count++;
        if (visit(event, inFlight, stored)) break;
      }
      visits.push(count);
    },
    holdBack: vi.fn(),
    acknowledge: vi.fn(),
    onTracked: () => () => undefined,
    onAcknowledged: () => () => undefined,
    report: vi.fn(),
    wake: vi.fn(),
  } as unknown as TrackerCore;
  return { core, visits };
}

const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

it('defers the events only memory holds first, then the oldest stored ones, one batch of them', () => {
  const queue: Pending[] = [
    ...ids('s', 30).map((id) => ({ event: event(id), inFlight: false, stored: true })),
    ...ids('m', 3).map((id) => ({ event: event(id), inFlight: false, stored: false })),
  ];
  const { core } = coreOver(queue);
  const stop = pageLifecycle(core)!;
  vi.advanceTimersByTime(deferRefreshMs);
  expect(deferred).toHaveLength(1);
  expect(deferred[0]!.events).toEqual([...ids('m', 3), ...ids('s', 7)]);
  stop();
});

it('stops walking the queue once memory alone fills the deferred request', () => {
  const queue: Pending[] = [
    ...ids('m', 25).map((id) => ({ event: event(id), inFlight: false, stored: false })),
    ...ids('later', 10_000).map((id) => ({ event: event(id), inFlight: false, stored: false })),
  ];
  const { core, visits } = coreOver(queue);
  const stop = pageLifecycle(core)!;
  vi.advanceTimersByTime(deferRefreshMs);
  expect(deferred[0]!.events).toEqual(ids('m', 10));
  expect(visits).toEqual([10]);
  // Nothing changed: the next refresh keeps the registered request (no new fetchLater call).
  vi.advanceTimersByTime(deferRefreshMs);
  expect(deferred).toHaveLength(1);
  stop();
});

it('still finds the newest memory-only events behind a long stored queue', () => {
  const queue: Pending[] = [
    ...ids('s', 5000).map((id) => ({ event: event(id), inFlight: false, stored: true })),
    { event: event('tick'), inFlight: false, stored: false },
  ];
  const { core, visits } = coreOver(queue);
  const stop = pageLifecycle(core)!;
  vi.advanceTimersByTime(deferRefreshMs);
  expect(deferred[0]!.events).toEqual(['tick', ...ids('s', 9)]);
  expect(visits).toEqual([5001]);
  stop();
});

it('at unload, leaves behind what did not fit and does not send it on the next unload event', () => {
  const beacons = recordBeacons();
  const queue: Pending[] = ids('s', 25).map((id) => ({ event: event(id), inFlight: false, stored: true }));
  const { core } = coreOver(queue);
  const stop = pageLifecycle(core)!;
  Object.defineProperty(document, 'visibilityState', { configurable: true, value: 'hidden' });
  document.dispatchEvent(new Event('visibilitychange'));
  window.dispatchEvent(new Event('pagehide'));
  expect(beacons).toEqual([ids('s', 10)]);
  expect(core.report).toHaveBeenCalledWith(expect.objectContaining({ code: 'unload', message: expect.stringContaining('15 stay queued') }));
  stop();
});

function recordBeacons(): string[][] {
  delete (globalThis as { fetchLater?: unknown }).fetchLater;
  const beacons: string[][] = [];
  Object.defineProperty(navigator, 'sendBeacon', {
    configurable: true,
    value: (_url: string, body: Uint8Array) => {
      beacons.push((JSON.parse(new TextDecoder().decode(body)) as { events: { id: string }[] }).events.map((e) => e.id));
      return true;
    },
  });
  return beacons;
}

it('at pagehide, leaves the stored events of a request in flight (or failed unanswered) to its receipt (issue 12: a reload just back online sent 20 of 20 twice)', () => {
  const beacons = recordBeacons();
  const queue: Pending[] = [
    ...ids('f', 5).map((id) => ({ event: event(id), inFlight: true, stored: true })),
    { event: event('m'), inFlight: true, stored: false },
    ...ids('s', 3).map((id) => ({ event: event(id), inFlight: false, stored: true })),
  ];
  const { core } = coreOver(queue);
  const stop = pageLifecycle(core)!;
  window.dispatchEvent(new Event('pagehide'));
  // What only memory holds goes (its request is about to be cancelled), then the stored rest.
  expect(beacons).toEqual([['m', ...ids('s', 3)]]);
  stop();
});

it('after a mere hide, only events tracked by that event\'s own handlers leave at once, even when timers are throttled (issue 12: Firefox background tabs)', async () => {
  const beacons = recordBeacons();
  const queue: Pending[] = [];
  const { core } = coreOver(queue);
  let tracked = () => {};
  (core as { onTracked: unknown }).onTracked = (listener: () => void) => ((tracked = listener), () => undefined);
  const stop = pageLifecycle(core)!;
  Object.defineProperty(document, 'visibilityState', { configurable: true, value: 'hidden' });
  document.dispatchEvent(new Event('visibilitychange'));
  const track = async (id: string) => {
    queue.push({ event: event(id), inFlight: false, stored: false });
    tracked();
    await Promise.resolve();
  };
  await track('app.hidden'); // the app's own visibilitychange handler
  // Seconds later, no timer having run (a throttled background tab): the ordinary path's.
  vi.setSystemTime(Date.now() + 2000);
  await track('later');
  expect(beacons).toEqual([['app.hidden']]);
  stop();
});

it("a page that becomes the sender after its own unload request does not ask that request's receipt as a closed page's (CI, Chromium: its held-back events left memory uncounted)", async () => {
  localStorage.clear();
  recordBeacons();
  const queue: Pending[] = ids('s', 3).map((id) => ({ event: event(id), inFlight: false, stored: true }));
  const { core } = coreOver(queue);
  (core as { storage: unknown }).storage = createMemoryStorage();
  const stop = pageLifecycle(core)!;
  window.dispatchEvent(new Event('pagehide'));
  expect(core.holdBack).toHaveBeenCalledTimes(1);
  const own = (core.holdBack as unknown as { mock: { calls: [unknown, number, string][] } }).mock.calls[0]![2];
  // A closed page's unload lease, as it left it in localStorage.
  unloadLeases(core.options, (leases) => [...leases, { rid: 'closed-page', until: core.options.now() + 5000, ids: ['x'], stream: '' }]);
  expect(unloadLeases(core.options, (leases) => leases).map((lease) => lease.rid)).toEqual([own, 'closed-page']);
  const found = await findLeases(core);
  expect(found.map((lease) => lease.rid)).toEqual(['closed-page']);
  stop();
  localStorage.clear();
});

it("at pagehide with nothing of its own to send, withdraws its deferred request (CI, Chromium: a closing sender left its stored events to the next one, but the request it had deferred while they were memory-only went at teardown, with no lease: 100 duplicates)", () => {
  const signals: AbortSignal[] = [];
  (globalThis as { fetchLater?: unknown }).fetchLater = (_url: string, init: { signal: AbortSignal }) => {
    signals.push(init.signal);
    return { activated: false };
  };
  const queue: Pending[] = ids('m', 5).map((id) => ({ event: event(id), inFlight: false, stored: false }));
  const { core } = coreOver(queue);
  const stop = pageLifecycle(core)!;
  vi.advanceTimersByTime(deferRefreshMs);
  expect(signals).toHaveLength(1);
  // Stored since, and other tabs now wait on this sender: what storage holds is the next sender's.
  for (const pending of queue) pending.stored = true;
  followers.add(core);
  window.dispatchEvent(new Event('pagehide'));
  expect(signals).toHaveLength(1);
  expect(signals[0]!.aborted).toBe(true);
  expect(core.holdBack).not.toHaveBeenCalled();
  stop();
});
