import type { QueuedEvent } from '../event.js';
import { readReply } from './http.js';
import { cutUnloadBatch, encodeUnloadRequest, unloadBudgetBytes, type UnloadOptions, type UnloadRequest } from './unload-request.js';
import { platformSenders, type FetchLaterResult, type UnloadSenders } from './unload-senders.js';

/**
 * A beacon's bytes count against the keepalive quota until its response completes, which the page
 * cannot see. A resource timing entry appears when it completes; without one, we assume this long.
 */
const sentInFlightMs = 30_000;

/** How an unload request left: `fetchLater()`, `fetch` with `keepalive`, or `navigator.sendBeacon`. */
export type UnloadPath = 'fetchLater' | 'beacon' | 'keepalive';

/** What {@link UnloadTransport.send} handed to the browser. */
export interface UnloadSent {
  rid: string;
  events: QueuedEvent[];
  path: UnloadPath;
  /** Body bytes, as sent. */
  bytes: number;
  /**
   * A keepalive fetch's outcome, when the page lives to see it: on a 2xx (the events are delivered)
   * its body, read like a batch reply (wire.ts `BatchReply`: its `ruled` ids), or true when it has
   * none; false otherwise. Beacons and fetchLater give no answer.
   */
  reply?: Promise<unknown>;
}

/** The browser side of the unload path: one budgeted request now, or one deferred request. */
export interface UnloadTransport {
  /**
   * Hands one budgeted request, made of the oldest of `candidates`, to the browser now and
   * synchronously: `fetchLater` (activated at once), else a keepalive `fetch`, else `sendBeacon`.
   * Beacons come last: blockers' lists drop every cross-site beacon (EasyPrivacy `$ping,third-party`),
   * and a beacon never says whether it arrived.
   * Undefined when nothing could go (no API, over the quota, not even one event fits).
   */
  send(candidates: readonly QueuedEvent[]): UnloadSent | undefined;
  /**
   * Keeps one deferred request (`fetchLater`, sent by the browser when the page goes away, even
   * when no event fires: a crash, a killed tab) holding the oldest of `candidates`, replacing the
   * previous one. Empty `candidates` withdraw it. False where `fetchLater` is missing or refused
   * for good (an endpoint that is neither https nor localhost).
   */
  defer(candidates: readonly QueuedEvent[]): boolean;
  /** The deferred request if the browser has sent it since, once (then it is gone). */
  takeActivated(): Pick<UnloadSent, 'rid' | 'events'> | undefined;
  /** Withdraws the deferred request. */
  cancel(): void;
  /** Withdraws the deferred request if it holds any of these (acknowledged) events. */
  withdrawIfHolding(ids: readonly string[]): void;
}

interface Deferred {
  result: FetchLaterResult;
  abort: AbortController;
  request: UnloadRequest;
  /** Which cut of the queue it was made from, so an unchanged head is not encoded again. */
  cutKey: string;
  /**
   * Its events' ids, read once: every acknowledgement asks, and a tracked event's id is parsed
   * from its JSON (a deferred request holds up to ~500).
   */
  heldIds: Set<string>;
}

// The request itself (its rid and events), with how it left.
const handed = (request: UnloadRequest, path: UnloadPath, reply?: Promise<unknown>): UnloadSent => ({ ...request, path, bytes: request.body.length, reply });

// An empty cut's key matches no deferred request (one is only made from a non-empty cut).
const keyOf = (cut: readonly QueuedEvent[]) => `${cut.length}:${cut[0]?.id}:${cut[cut.length - 1]?.id}`;

/**
 * Creates the unload transport. Every body is a `Uint8Array`, which fetch and sendBeacon send
 * without a Content-Type, and nothing goes in headers: the request needs no CORS preflight, which
 * would never complete during unload (posthog-js#4139). `options.headers` are therefore left out.
 */
export function createUnloadTransport(options: UnloadOptions, senders: UnloadSenders = platformSenders): UnloadTransport {
  // Our own unload requests still in flight: keepalive fetches until they settle, beacons and
  // activated deferred fetches until a resource timing entry shows them complete (or for
  // `sentInFlightMs`), so two unload requests close together never exceed the budget together.
  let sent: [url: string, bytes: number, at: number][] = [];
  let keepaliveBytes = 0;
  let deferred: Deferred | undefined;
  let deferRefused = false;

  function inFlightBytes(): number {
    const now = Date.now();
    sent = sent.filter(([url, , at]) => now - at <= sentInFlightMs && !performance.getEntriesByName(url).length);
    return sent.reduce((sum, request) => sum + request[1], keepaliveBytes);
  }

  function withdraw(): void {
    if (deferred && !deferred.result.activated) deferred.abort.abort();
    deferred = undefined;
  }

  function register(request: UnloadRequest, cutKey: string, activateAfter?: number): boolean {
    const api = senders.findFetchLater();
    if (!api) return false;
    const abort = new AbortController();
    try {
      // An undefined `activateAfter` is an absent one (WebIDL dictionaries): the browser's default.
      const result = api(request.url, { method: 'POST', body: request.body as Uint8Array<ArrayBuffer>, signal: abort.signal, activateAfter });
      deferred = { result, abort, request, cutKey, heldIds: new Set(request.events.map((event) => event.id)) };
      return true;
    } catch (error) {
      // A TypeError (an endpoint that is not https or localhost) will not change; a
      // QuotaExceededError (other deferred fetches to this origin) may.
      if (error instanceof TypeError) deferRefused = true;
      return false;
    }
  }

  // Undefined where the platform has no beacon; false when refused (over the quota, a bad URL).
  function beacon(request: UnloadRequest): boolean | undefined {
    let queued: boolean | undefined = false;
    try {
      queued = senders.queueBeacon(request.url, request.body);
    } catch {
      // a URL the browser refuses: `queued` stays false
    }
    if (queued) sent.push([request.url, request.body.length, Date.now()]);
    return queued;
  }

  // A keepalive fetch over the quota rejects only later, never synchronously: then, if the page
  // is still there to see it, the same request goes as a beacon.
  function keepalive(request: UnloadRequest): Promise<unknown> | undefined {
    const bytes = request.body.length;
    try {
      const reply = senders.postKeepalive(request.url, request.body);
      if (!reply) return undefined;
      keepaliveBytes += bytes;
      // Settled: its bytes leave the quota before a fallback beacon counts its own.
      return reply.finally(() => (keepaliveBytes -= bytes)).then(
        (response) => response.ok && readReply(response).then((body) => body ?? true),
        () => (beacon(request), false),
      );
    } catch {
      return undefined;
    }
  }

  return {
    send(candidates) {
      if (!candidates.length) return undefined;
      const budget = unloadBudgetBytes - inFlightBytes();
      if (budget <= 0) return undefined;
      const cut = cutUnloadBatch(options, candidates, budget);
      let request: UnloadRequest | undefined;
      if (senders.findFetchLater() && !deferRefused) {
        // The deferred request, when it holds this very cut, is sent as it is: no encoding at unload.
        const cutKey = keyOf(cut);
        const ready = deferred && !deferred.result.activated && deferred.cutKey === cutKey ? deferred.request : undefined;
        // Aborting our deferred request frees its share of the per-origin quota at once (measured).
        withdraw();
        request = ready && ready.body.length + ready.url.length <= budget ? ready : encodeUnloadRequest(options, cut, budget, true);
        if (request && register(request, cutKey, 0)) {
          deferred = undefined; // activated: it is the browser's now
          sent.push([request.url, request.body.length, Date.now()]);
          return handed(request, 'fetchLater');
        }
      }
      request ??= encodeUnloadRequest(options, cut, budget, false);
      if (!request) return undefined;
      const reply = keepalive(request);
      if (reply) return handed(request, 'keepalive', reply);
      // False means over the quota (the host page's own beacons): one smaller try, then the
      // events wait for the next page.
      const queued = beacon(request);
      if (queued) return handed(request, 'beacon');
      if (queued === undefined) return undefined; // no sendBeacon
      const smaller = encodeUnloadRequest(options, request.events, Math.floor(budget / 2), false);
      return smaller && beacon(smaller) ? handed(smaller, 'beacon') : undefined;
    },

    defer(candidates) {
      if (!senders.findFetchLater() || deferRefused) return false;
      const cut = cutUnloadBatch(options, candidates, unloadBudgetBytes);
      const cutKey = keyOf(cut);
      if (deferred && !deferred.result.activated && deferred.cutKey === cutKey) return true;
      withdraw();
      if (!cut.length) return true;
      const request = encodeUnloadRequest(options, cut, unloadBudgetBytes, true);
      // Over the quota (other deferred fetches to this origin) is worth another try later.
      return (!!request && register(request, cutKey)) || !deferRefused;
    },

    takeActivated() {
      if (!deferred?.result.activated) return undefined;
      const { request } = deferred;
      deferred = undefined;
      return request;
    },

    cancel: withdraw,

    withdrawIfHolding(ids) {
      if (deferred && !deferred.result.activated && ids.some((id) => deferred!.heldIds.has(id))) withdraw();
    },
  };
}
