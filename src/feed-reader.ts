import ky from 'ky';
import { FeedError, feedErrorOf, isFeedError } from './feed-error.js';
import { cursorsMoved, nextPageDelay } from './next-page-delay.js';
import type { Cursor, FeedPage } from './feed-page.js';
import { parseFeedStream } from './parse-feed-stream.js';

// A ZeroEventHub consumer (github.com/vippsas/zeroeventhub, SPEC.md): GET
// `<url>?n=<partitions>&cursor<p>=…&pagesizehint=…`, answered with NDJSON event and checkpoint
// lines. Its HTTP (timeouts, retries with backoff, Retry-After) is ky's: a client that polls is
// what ky is for (docs/design.md). Beyond the Python client it long-polls (`wait=`, the spec's
// future work), and runs in browsers, workerd and Node.

export { FeedError, isFeedError } from './feed-error.js';
export type { FeedErrorCode } from './feed-error.js';
export type { Cursor, FeedEvent, FeedPage } from './feed-page.js';

/** Reads from the beginning of time (ZeroEventHub `_first`). */
export const FIRST_CURSOR = '_first';
/** Reads from about now on (ZeroEventHub `_last`). */
export const LAST_CURSOR = '_last';

/** Retries of one page read (network errors, timeouts, 408, 429, 5xx). */
export interface FeedRetryOptions {
  /** Retries before the read fails. @default 5 */
  limit?: number;
  /** The n-th retry waits a random time in [0, baseMs * 2^n) (full jitter). @default 500 */
  baseMs?: number;
  /** Ceiling of one wait, and of a server's `Retry-After`. @default 30000 */
  maxDelayMs?: number;
}

/** Options of {@link createFeedReader}. `url` and `partitionCount` are required. */
export interface FeedReaderOptions {
  /** The feed URL, used as is (the collector's is `<collector>/feed/v1`). */
  url: string;
  /** The number of partitions the server has; a mismatch is answered 400. */
  partitionCount: number;
  /** The fetch ky calls (given the URL, the headers and the signal). @default globalThis.fetch */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** Request headers (authentication is out of the spec's scope, so it goes here). @default {} */
  headers?: Record<string, string>;
  /** Event headers to ask for (`headers=`), or 'all'. @default none */
  eventHeaders?: readonly string[] | 'all';
  /** At most about this many events per page; the server may send more or fewer. @default the server's */
  pageSizeHint?: number;
  /**
   * Long poll: a request with nothing new waits up to this long for an event, and `pages()` never
   * ends by itself. 0 turns it off. @default 0
   */
  waitSeconds?: number;
  /**
   * With `waitSeconds`, the least time from one request that brought nothing to the next: a
   * server that ignores `wait` (answers at once) is asked once per interval, not in a loop.
   * @default 1000
   */
  pollIntervalMs?: number;
  /** Per-request timeout (the whole answer, body included), on top of `waitSeconds`. @default 30000 */
  timeoutMs?: number;
  /** Retry policy, or just its `limit`. @default { limit: 5, baseMs: 500, maxDelayMs: 30000 } */
  retry?: number | FeedRetryOptions;
  /** Cancels every read; `pages()` then ends quietly, `readPage()` rejects with the reason. */
  signal?: AbortSignal;
  /** Randomness for backoff jitter, injectable for tests. @default Math.random */
  random?: () => number;
  /** The clock that times requests (for `pollIntervalMs`), injectable for tests. @default Date.now */
  now?: () => number;
}

/** A feed reader: see {@link createFeedReader}. */
export interface FeedReader {
  /** Reads one page from these cursors (one per partition read), retrying transient failures. */
  readPage<T = unknown>(cursors: readonly Cursor[], options?: { signal?: AbortSignal }): Promise<FeedPage<T>>;
  /**
   * Reads page after page, each from the previous page's `cursors`, until a page neither has events
   * nor moves a cursor (a page without events whose checkpoints advance is not the end: a
   * filtering server sends those); with `waitSeconds`, forever (until the signal aborts or you
   * `break`). Pages that change nothing are not yielded. The next page is only fetched once you
   * ask for it, so store each page's effects and cursors before moving on.
   */
  pages<T = unknown>(cursors: readonly Cursor[], options?: { signal?: AbortSignal }): AsyncGenerator<FeedPage<T>, void, undefined>;
}

/** `_first` for each of `partitionCount` partitions: the whole feed from the beginning. */
export function firstCursors(partitionCount: number): Cursor[] {
  return Array.from({ length: partitionCount }, (_, partition) => ({ partition, cursor: FIRST_CURSOR }));
}

/** `_last` for each of `partitionCount` partitions: only what arrives from now on. */
export function lastCursors(partitionCount: number): Cursor[] {
  return Array.from({ length: partitionCount }, (_, partition) => ({ partition, cursor: LAST_CURSOR }));
}

/** Statuses worth another try, as the tracker treats them (transport/outcome.ts): 408, 429, 5xx. */
const retryStatuses = [408, 429, ...Array.from({ length: 100 }, (_, i) => 500 + i)];

/**
 * Creates a ZeroEventHub feed reader. For exactly-once processing, store each page's effects
 * and its `cursors` in one transaction, and start again from the stored cursors.
 */
export function createFeedReader(options: FeedReaderOptions): FeedReader {
  const { url, partitionCount, pageSizeHint, eventHeaders, waitSeconds = 0, pollIntervalMs = 1000, timeoutMs = 30_000, random = Math.random, now = Date.now } = options;
  if (typeof url !== 'string' || !url) throw new TypeError('[outbox] createFeedReader needs a feed `url`');
  if (!Number.isInteger(partitionCount) || partitionCount < 1) {
    throw new RangeError(`[outbox] partitionCount must be a positive integer, got ${String(partitionCount)}`);
  }
  // A NaN pause would be no pause at all: the request loop this reader exists to avoid.
  // At most a day each, so that the request timeout stays within what setTimeout can hold.
  for (const [name, value, max] of [['waitSeconds', waitSeconds, 86_400], ['pollIntervalMs', pollIntervalMs, 86_400_000], ['timeoutMs', timeoutMs, 86_400_000]] as const) {
    if (!(value >= 0 && value <= max)) throw new RangeError(`[outbox] ${name} must be a number from 0 to ${max}, got ${String(value)}`);
  }
  const given = typeof options.retry === 'number' ? { limit: options.retry } : (options.retry ?? {});
  const retry = { limit: given.limit ?? 5, baseMs: given.baseMs ?? 500, maxDelayMs: given.maxDelayMs ?? 30_000 };
  // Looked up per call, not bound at creation: a polyfill or test may install fetch later.
  const doFetch = options.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));

  const http = ky.create({
    headers: options.headers,
    timeout: timeoutMs + waitSeconds * 1000,
    throwHttpErrors: true,
    retry: {
      limit: retry.limit,
      methods: ['get'],
      statusCodes: retryStatuses,
      afterStatusCodes: retryStatuses,
      maxRetryAfter: retry.maxDelayMs,
      backoffLimit: retry.maxDelayMs,
      retryOnTimeout: true,
      // Full jitter: the n-th retry waits a random time in [0, min(maxDelayMs, baseMs * 2^n)).
      delay: (attempt) => Math.min(retry.maxDelayMs, retry.baseMs * 2 ** Math.min(attempt - 1, 52)),
      jitter: (delayMs) => random() * delayMs,
      // A malformed page stays malformed: asking again only repeats it.
      shouldRetry: ({ error }) => (isFeedError(error) ? false : undefined),
    },
  });

  function pageUrl(cursors: readonly Cursor[]): string {
    if (!cursors?.length) throw new FeedError('bad_cursor', 'cursors are missing: pass one per partition to read (firstCursors(n) to start)');
    let query = `n=${partitionCount}`;
    const seen = new Set<number>();
    for (const { partition, cursor } of cursors) {
      if (!Number.isInteger(partition) || partition < 0 || partition >= partitionCount || seen.has(partition) || typeof cursor !== 'string' || !cursor) {
        throw new FeedError('bad_cursor', `bad cursor ${JSON.stringify({ partition, cursor })}: one non-empty cursor per partition 0..${partitionCount - 1}`);
      }
      seen.add(partition);
      query += `&cursor${partition}=${encodeURIComponent(cursor)}`;
    }
    // Like the reference clients, the hint is only sent when set (0 means the server's default).
    if (pageSizeHint) query += `&pagesizehint=${pageSizeHint}`;
    if (eventHeaders) query += `&headers=${eventHeaders === 'all' ? '_all' : eventHeaders.map(encodeURIComponent).join(',')}`;
    if (waitSeconds > 0) query += `&wait=${waitSeconds}`;
    return `${url}${url.includes('?') ? '&' : '?'}${query}`;
  }

  async function readPage<T>(cursors: readonly Cursor[], call: { signal?: AbortSignal } = {}): Promise<FeedPage<T>> {
    const target = pageUrl(cursors);
    const signals = [options.signal, call.signal].filter((s): s is AbortSignal => s !== undefined);
    const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    signal?.throwIfAborted();
    // The page is parsed inside the fetch ky calls, as the body streams in: ky's timeout then
    // bounds the whole answer, and a connection lost mid-body is retried like any network error.
    let page: FeedPage<T> | undefined;
    const fetchAndParse = async (request: Request): Promise<Response> => {
      const response = await abortable(doFetch(request.url, { method: 'GET', headers: request.headers, signal: request.signal }), request.signal);
      if (!response.ok) return response;
      page = await abortable(parseFeedStream<T>(response.body, cursors), request.signal);
      return new Response(null, { status: response.status });
    };
    try {
      await http.get(target, { fetch: fetchAndParse as typeof fetch, signal });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw await feedErrorOf(error);
    }
    return page!;
  }

  async function* pages<T>(cursors: readonly Cursor[], call: { signal?: AbortSignal } = {}): AsyncGenerator<FeedPage<T>, void, undefined> {
    let current = cursors;
    for (;;) {
      const startedAt = now();
      let page: FeedPage<T>;
      try {
        page = await readPage<T>(current, call);
      } catch (error) {
        if (options.signal?.aborted || call.signal?.aborted) return;
        throw error;
      }
      const next = nextPageDelay(current, page, { waitSeconds, pollIntervalMs, elapsedMs: now() - startedAt });
      if (next.kind === 'end') return;
      if (page.events.length > 0 || cursorsMoved(current, page.cursors)) yield page;
      current = page.cursors;
      if (next.delayMs > 0 && !(await pause(next.delayMs, [options.signal, call.signal]))) return;
    }
  }

  return { readPage, pages };
}

/** `work`, or the signal's reason once it aborts: an injected fetch that ignores its signal must not hang the read. */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason);
    signal.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/** Waits `ms`; resolves false (at once) when a signal aborts first. */
function pause(ms: number, signals: (AbortSignal | undefined)[]): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (result: boolean) => {
      clearTimeout(timer);
      for (const signal of signals) signal?.removeEventListener('abort', aborted);
      resolve(result);
    };
    const aborted = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    for (const signal of signals) signal?.addEventListener('abort', aborted);
    if (signals.some((s) => s?.aborted)) done(false);
  });
}
