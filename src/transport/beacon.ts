import { randomId, type QueuedEvent } from '../event.js';
import { eventBytes, otherStream } from '../batch.js';
import { cutBySize } from '../cut-by-size.js';
import type { ResolvedOptions } from '../options.js';
import { encodeBody, requestUrl } from './encode.js';

/**
 * What one unload request may weigh, in bytes sent. Chromium allows 64 KiB of
 * in-flight keepalive bodies per page, shared by every beacon and keepalive fetch of the page, and
 * 64 KiB of deferred fetches per reporting origin (URL included); we keep 16 KiB for the host page.
 * Over the quota, sendBeacon returns false and a keepalive fetch rejects (toolchain.md).
 */
export const unloadBudgetBytes = 48 * 1024;

/**
 * A beacon's bytes count against the keepalive quota until its response completes, which the page
 * cannot see. A resource timing entry appears when it completes; without one, we assume this long.
 */
const sentInFlightMs = 30_000;

/** The options the unload request is built from. */
export type UnloadOptions = Pick<
  ResolvedOptions,
  'endpoint' | 'streams' | 'signer' | 'maxBatchEvents' | 'maxBatchBytes' | 'now'
>;

/** How an unload request left: `fetchLater()`, `fetch` with `keepalive`, or `navigator.sendBeacon`. */
export type UnloadPath = 'fetchLater' | 'beacon' | 'keepalive';

/**
 * One request ready to go: CORS-simple (a typeless byte body, the signature in the URL). Always
 * plain: the unload path must stay synchronous, and the platform's gzip is async (design.md, 7).
 */
export interface UnloadRequest {
  /** The request id in the URL: the next page asks the collector for its receipt. */
  rid: string;
  url: string;
  body: Uint8Array;
  events: QueuedEvent[];
}

/**
 * The events one unload request may carry, in the order given (the lifecycle puts events only
 * memory holds first, then the oldest): those of the first event's stream (a request has one
 * endpoint and one signer), at most `maxBatchEvents` and `maxBatchBytes` like any request, and at
 * most `budget` bytes.
 */
export function cutUnloadBatch(options: UnloadOptions, candidates: Iterable<QueuedEvent>, budget: number): QueuedEvent[] {
  // An event alone over the budget stops the cut: an unload request cannot be split later.
  const limit = { maxBytes: Math.min(options.maxBatchBytes, budget), maxCount: options.maxBatchEvents, joinBytes: 1, stopAtOversize: true, skip: otherStream };
  return cutBySize(candidates, eventBytes, limit, true)[0] ?? [];
}

/**
 * Encodes `events` (one stream, from {@link cutUnloadBatch}) as one wire format v1 request whose
 * body (plus the URL, for `fetchLater`, whose quota counts it) fits `budget`, dropping the newest
 * events until it does. Undefined when not even the oldest event fits.
 */
export function encodeUnloadRequest(
  options: UnloadOptions,
  events: readonly QueuedEvent[],
  budget: number,
  urlCounts: boolean,
): UnloadRequest | undefined {
  const stream = events[0]?.stream ?? '';
  const streamOptions = options.streams[stream];
  const endpoint = streamOptions?.endpoint ?? options.endpoint;
  const signer = streamOptions?.signer ?? options.signer;
  const rid = randomId(16);
  let count = events.length;
  while (count > 0) {
    const taken = count < events.length ? events.slice(0, count) : (events as QueuedEvent[]);
    const body = encodeBody(taken, options.now());
    const url = requestUrl(endpoint, { rid, stream, sig: signer?.(body) });
    const size = body.length + (urlCounts ? url.length : 0);
    if (size <= budget) return { rid, url, body, events: taken };
    // Event sizes are even enough across a batch that scaling by the overshoot lands close.
    count = Math.min(count - 1, Math.floor((count * budget * 0.95) / size));
  }
  return undefined;
}

/** What {@link UnloadTransport.send} handed to the browser. */
export interface UnloadSent {
  rid: string;
  events: QueuedEvent[];
  path: UnloadPath;
  /** Body bytes, as sent. */
  bytes: number;
  /**
   * A keepalive fetch's outcome, when the page lives to see it: true on a 2xx (the events are
   * delivered), false otherwise. Beacons and fetchLater give no answer.
   */
  reply?: Promise<boolean>;
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
  withdrawIfHolding(ids: ReadonlySet<string>): void;
}

interface FetchLaterResult {
  readonly activated: boolean;
}
type FetchLater = (input: string, init: RequestInit & { activateAfter?: number }) => FetchLaterResult;

interface Deferred {
  result: FetchLaterResult;
  abort: AbortController;
  request: UnloadRequest;
  /** Which cut of the queue it was made from, so an unchanged head is not encoded again. */
  key: string;
}

const handed = (request: UnloadRequest, path: UnloadPath, reply?: Promise<boolean>): UnloadSent => ({
  rid: request.rid,
  events: request.events,
  path,
  bytes: request.body.length,
  reply,
});

// Browsers that honour `keepalive` expose it on Request (Firefox before 133 ignored it: the
// request died with the page, so a beacon is the better bet there).
const hasKeepalive = () => typeof Request === 'function' && 'keepalive' in Request.prototype;

const keyOf = (cut: readonly QueuedEvent[]) => (cut.length ? `${cut.length}:${cut[0]!.id}:${cut[cut.length - 1]!.id}` : '');

/**
 * Creates the unload transport. Every body is a `Uint8Array`, which fetch and sendBeacon send
 * without a Content-Type, and nothing goes in headers: the request needs no CORS preflight, which
 * would never complete during unload (posthog-js#4139). `options.headers` are therefore left out.
 */
export function createUnloadTransport(options: UnloadOptions): UnloadTransport {
  // Our own unload requests still in flight: keepalive fetches until they settle, beacons and
  // activated deferred fetches until a resource timing entry shows them complete (or for
  // `sentInFlightMs`), so two unload requests close together never exceed the budget together.
  const sent: { url: string; bytes: number; at: number }[] = [];
  let keepaliveBytes = 0;
  let deferred: Deferred | undefined;
  let deferRefused = false;

  function inFlightBytes(): number {
    const now = Date.now();
    for (let i = sent.length - 1; i >= 0; i--) {
      const { url, at } = sent[i]!;
      if (now - at > sentInFlightMs || performance.getEntriesByName(url).length) sent.splice(i, 1);
    }
    return sent.reduce((sum, request) => sum + request.bytes, keepaliveBytes);
  }

  function fetchLater(): FetchLater | undefined {
    const api = (globalThis as { fetchLater?: FetchLater }).fetchLater;
    return typeof api === 'function' ? api.bind(globalThis) : undefined;
  }

  function withdraw(): void {
    if (deferred && !deferred.result.activated) deferred.abort.abort();
    deferred = undefined;
  }

  function register(request: UnloadRequest, key: string, activateAfter?: number): boolean {
    const api = fetchLater();
    if (!api) return false;
    const abort = new AbortController();
    try {
      const init = { method: 'POST', body: request.body as Uint8Array<ArrayBuffer>, signal: abort.signal };
      const result = api(request.url, activateAfter === undefined ? init : { ...init, activateAfter });
      deferred = { result, abort, request, key };
      return true;
    } catch (error) {
      // A TypeError (an endpoint that is not https or localhost) will not change; a
      // QuotaExceededError (other deferred fetches to this origin) may.
      if (error instanceof TypeError) deferRefused = true;
      return false;
    }
  }

  function beacon(request: UnloadRequest): boolean {
    let queued = false;
    try {
      queued = navigator.sendBeacon(request.url, request.body as Uint8Array<ArrayBuffer>);
    } catch {
      queued = false; // a URL the browser refuses
    }
    if (queued) sent.push({ url: request.url, bytes: request.body.length, at: Date.now() });
    return queued;
  }

  // A keepalive fetch over the quota rejects only later, never synchronously: then, if the page
  // is still there to see it, the same request goes as a beacon.
  function keepalive(request: UnloadRequest): Promise<boolean> | undefined {
    const bytes = request.body.length;
    keepaliveBytes += bytes;
    const done = () => (keepaliveBytes -= bytes);
    try {
      return fetch(request.url, { method: 'POST', body: request.body as Uint8Array<ArrayBuffer>, keepalive: true }).then(
        (response) => (done(), response.ok),
        () => (done(), typeof navigator.sendBeacon === 'function' && beacon(request), false),
      );
    } catch {
      done();
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
      if (fetchLater() && !deferRefused) {
        // The deferred request, when it holds this very cut, is sent as it is: no encoding at unload.
        const key = keyOf(cut);
        const ready = deferred && !deferred.result.activated && deferred.key === key ? deferred.request : undefined;
        // Aborting our deferred request frees its share of the per-origin quota at once (measured).
        withdraw();
        request = ready && ready.body.length + ready.url.length <= budget ? ready : encodeUnloadRequest(options, cut, budget, true);
        if (request && register(request, key, 0)) {
          deferred = undefined; // activated: it is the browser's now
          sent.push({ url: request.url, bytes: request.body.length, at: Date.now() });
          return handed(request, 'fetchLater');
        }
      }
      request ??= encodeUnloadRequest(options, cut, budget, false);
      if (!request) return undefined;
      const reply = hasKeepalive() ? keepalive(request) : undefined;
      if (reply) return handed(request, 'keepalive', reply);
      if (typeof navigator.sendBeacon !== 'function') return undefined;
      // False means over the quota (the host page's own beacons): one smaller try, then the
      // events wait for the next page.
      if (beacon(request)) return handed(request, 'beacon');
      const smaller = encodeUnloadRequest(options, request.events, Math.floor(budget / 2), false);
      return smaller && beacon(smaller) ? handed(smaller, 'beacon') : undefined;
    },

    defer(candidates) {
      if (!fetchLater() || deferRefused) return false;
      const cut = cutUnloadBatch(options, candidates, unloadBudgetBytes);
      const key = keyOf(cut);
      if (deferred && !deferred.result.activated && deferred.key === key) return true;
      withdraw();
      if (!cut.length) return true;
      const request = encodeUnloadRequest(options, cut, unloadBudgetBytes, true);
      // Over the quota (other deferred fetches to this origin) is worth another try later.
      return (!!request && register(request, key)) || !deferRefused;
    },

    takeActivated() {
      if (!deferred?.result.activated) return undefined;
      const { rid, events } = deferred.request;
      deferred = undefined;
      return { rid, events };
    },

    cancel: withdraw,

    withdrawIfHolding(ids) {
      if (deferred && !deferred.result.activated && deferred.request.events.some((event) => ids.has(event.id))) withdraw();
    },
  };
}
