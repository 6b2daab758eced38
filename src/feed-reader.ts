import { backoffDelay, parseRetryAfter } from './backoff.js';

// A ZeroEventHub consumer (github.com/vippsas/zeroeventhub, SPEC.md): GET
// `<url>?n=<partitions>&cursor<p>=…&pagesizehint=…`, answered with NDJSON event and checkpoint
// lines. Only `fetch`, so it runs in browsers, workerd and Node. Beyond the Python client it
// long-polls (`wait=`, from the spec's future work) and retries transient failures with backoff.

/** Reads from the beginning of time (ZeroEventHub `_first`). */
export const FIRST_CURSOR = '_first';
/** Reads from about now on (ZeroEventHub `_last`). */
export const LAST_CURSOR = '_last';

/** A position in one partition of the feed. The cursor is opaque: store it, send it back. */
export interface Cursor {
  partition: number;
  cursor: string;
}

/** One event line of the feed. */
export interface FeedEvent<T = unknown> {
  partition: number;
  /** Present when the server sent headers (see `eventHeaders`). */
  headers?: Record<string, string>;
  data: T;
}

/** One response of the feed. */
export interface FeedPage<T = unknown> {
  /** Event lines, in the order received. Between checkpoints, their order carries no meaning. */
  events: FeedEvent<T>[];
  /** Checkpoint lines, in the order received. */
  checkpoints: Cursor[];
  /**
   * What to store with the effects of `events` and pass next: the cursors asked for, each
   * replaced by its partition's latest checkpoint in this page.
   */
  cursors: Cursor[];
}

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
  /** @default globalThis.fetch */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
  /** Request headers (authentication is out of the spec's scope, so it goes here). @default {} */
  headers?: Record<string, string>;
  /** Event headers to ask for (`headers=`), or 'all'. @default none */
  eventHeaders?: readonly string[] | 'all';
  /** At most about this many events per page; the server may send more or fewer. @default the server's */
  pageSizeHint?: number;
  /** Long poll: a request with nothing new waits up to this long for an event. 0 turns it off. @default 0 */
  waitSeconds?: number;
  /** Per-request timeout, on top of `waitSeconds`. @default 30000 */
  timeoutMs?: number;
  /** Retry policy, or just its `limit`. @default { limit: 5, baseMs: 500, maxDelayMs: 30000 } */
  retry?: number | FeedRetryOptions;
  /** Cancels every read; `pages()` then ends quietly, `readPage()` rejects with the reason. */
  signal?: AbortSignal;
  /** Randomness for backoff jitter, injectable for tests. @default Math.random */
  random?: () => number;
}

/** A feed reader: see {@link createFeedReader}. */
export interface FeedReader {
  /** Reads one page from these cursors (one per partition read), retrying transient failures. */
  readPage<T = unknown>(cursors: readonly Cursor[], options?: { signal?: AbortSignal }): Promise<FeedPage<T>>;
  /**
   * Reads page after page, each from the previous page's `cursors`, until a page has no events;
   * with `waitSeconds`, forever (until the signal aborts or you `break`). The next page is only
   * fetched once you ask for it, so store each page's effects and cursors before moving on.
   */
  pages<T = unknown>(cursors: readonly Cursor[], options?: { signal?: AbortSignal }): AsyncGenerator<FeedPage<T>, void, undefined>;
}

/** What went wrong reading the feed. */
export type FeedErrorCode = 'http' | 'network' | 'bad_response' | 'bad_cursor';

/** The error of a failed feed read: a non-2xx reply (with its status and body), a network failure, a malformed reply or bad cursors. */
export class FeedError extends Error {
  override readonly name = 'FeedError';
  readonly code: FeedErrorCode;
  /** The HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** The reply's body text, when the server answered with an error. */
  readonly body: string | undefined;

  constructor(code: FeedErrorCode, message: string, details: { status?: number; body?: string; cause?: unknown } = {}) {
    super(`[outbox] ${message}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.status = details.status;
    this.body = details.body;
  }
}

/** True for a {@link FeedError}, also one from another realm or copy of the library. */
export function isFeedError(value: unknown): value is FeedError {
  return value instanceof FeedError || (value instanceof Error && value.name === 'FeedError');
}

/** `_first` for each of `partitionCount` partitions: the whole feed from the beginning. */
export function firstCursors(partitionCount: number): Cursor[] {
  return Array.from({ length: partitionCount }, (_, partition) => ({ partition, cursor: FIRST_CURSOR }));
}

/** `_last` for each of `partitionCount` partitions: only what arrives from now on. */
export function lastCursors(partitionCount: number): Cursor[] {
  return Array.from({ length: partitionCount }, (_, partition) => ({ partition, cursor: LAST_CURSOR }));
}

/**
 * Creates a ZeroEventHub feed reader. For exactly-once processing, store each page's effects
 * and its `cursors` in one transaction, and start again from the stored cursors.
 */
export function createFeedReader(options: FeedReaderOptions): FeedReader {
  const { url, partitionCount, pageSizeHint, eventHeaders, waitSeconds = 0, timeoutMs = 30_000, random = Math.random } = options;
  if (typeof url !== 'string' || !url) throw new TypeError('[outbox] createFeedReader needs a feed `url`');
  if (!Number.isInteger(partitionCount) || partitionCount < 1) {
    throw new RangeError(`[outbox] partitionCount must be a positive integer, got ${String(partitionCount)}`);
  }
  const given = typeof options.retry === 'number' ? { limit: options.retry } : (options.retry ?? {});
  const retry = { limit: given.limit ?? 5, baseMs: given.baseMs ?? 500, maxDelayMs: given.maxDelayMs ?? 30_000 };
  // Looked up per call, not bound at creation: a polyfill or test may install fetch later.
  const doFetch = options.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));

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

  // One attempt; the timeout and the callers' signals all abort it through one controller.
  async function request(target: string, signals: (AbortSignal | undefined)[]): Promise<{ response: Response; text: string }> {
    const controller = new AbortController();
    const abort = function (this: AbortSignal) {
      controller.abort(this.reason);
    };
    for (const signal of signals) signal?.addEventListener('abort', abort);
    const timer = setTimeout(() => controller.abort(new Error(`timed out after ${timeoutMs + waitSeconds * 1000} ms`)), timeoutMs + waitSeconds * 1000);
    // Raced as well as passed: an injected fetch that ignores its signal must not hang the read.
    const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(controller.signal.reason)));
    aborted.catch(() => {});
    try {
      const response = await Promise.race([doFetch(target, { headers: options.headers, signal: controller.signal }), aborted]);
      return { response, text: await Promise.race([response.text(), aborted]) };
    } catch (error) {
      throw controller.signal.aborted ? controller.signal.reason : error;
    } finally {
      clearTimeout(timer);
      for (const signal of signals) signal?.removeEventListener('abort', abort);
    }
  }

  async function readPage<T>(cursors: readonly Cursor[], call: { signal?: AbortSignal } = {}): Promise<FeedPage<T>> {
    const target = pageUrl(cursors);
    const signals = [options.signal, call.signal];
    for (let attempt = 0; ; attempt++) {
      const aborted = signals.find((s) => s?.aborted);
      if (aborted) throw aborted.reason;
      let failure: FeedError;
      let retryAfterMs: number | undefined;
      try {
        const { response, text } = await request(target, signals);
        const { status } = response;
        if (status >= 200 && status < 300) return parsePage<T>(text, cursors);
        failure = new FeedError('http', `feed request failed: HTTP ${status}: ${text.slice(0, 300)}`, { status, body: text });
        // Like the tracker (transport/outcome.ts): 408, 429 and 5xx are transient; other 4xx are final.
        if (status !== 408 && status !== 429 && status < 500) throw failure;
        retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), Date.now(), retry.maxDelayMs);
      } catch (error) {
        if (isFeedError(error) || signals.some((s) => s?.aborted)) throw error;
        failure = new FeedError('network', `feed request failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
      if (attempt >= retry.limit) throw failure;
      await sleep(Math.max(retryAfterMs ?? 0, backoffDelay(attempt, retry, random)), signals);
    }
  }

  async function* pages<T>(cursors: readonly Cursor[], call: { signal?: AbortSignal } = {}): AsyncGenerator<FeedPage<T>, void, undefined> {
    let current = cursors;
    for (;;) {
      let page: FeedPage<T>;
      try {
        page = await readPage<T>(current, call);
      } catch (error) {
        if (options.signal?.aborted || call.signal?.aborted) return;
        throw error;
      }
      const moved = page.cursors.some((c, i) => c.cursor !== current[i]?.cursor || c.partition !== current[i]?.partition);
      if (page.events.length || moved) yield page;
      current = page.cursors;
      if (!page.events.length && !(waitSeconds > 0)) return;
    }
  }

  return { readPage, pages };
}

/**
 * Parses an NDJSON page: lines split on "\n" only (as the reference client does since
 * zeroeventhub e0cf518), blank lines skipped (f3870bb), a line with a non-null `cursor` is a
 * checkpoint, any other line an event.
 */
function parsePage<T>(text: string, asked: readonly Cursor[]): FeedPage<T> {
  const events: FeedEvent<T>[] = [];
  const checkpoints: Cursor[] = [];
  const latest = new Map(asked.map((c) => [c.partition, c.cursor]));
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let item: { partition?: unknown; cursor?: unknown; headers?: Record<string, string> | null; data?: T };
    try {
      item = JSON.parse(line);
    } catch (error) {
      throw new FeedError('bad_response', `feed line is not JSON: ${line.slice(0, 100)}`, { cause: error });
    }
    const partition = item?.partition;
    if (typeof partition !== 'number' || !Number.isInteger(partition)) {
      throw new FeedError('bad_response', `feed line has no integer "partition": ${line.slice(0, 100)}`);
    }
    if (item.cursor != null) {
      const cursor = String(item.cursor);
      checkpoints.push({ partition, cursor });
      latest.set(partition, cursor);
    } else {
      events.push(item.headers == null ? { partition, data: item.data as T } : { partition, headers: item.headers, data: item.data as T });
    }
  }
  return { events, checkpoints, cursors: [...latest].map(([partition, cursor]) => ({ partition, cursor })) };
}

function sleep(ms: number, signals: (AbortSignal | undefined)[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      for (const signal of signals) signal?.removeEventListener('abort', abort);
    };
    const abort = function (this: AbortSignal) {
      done();
      reject(this.reason);
    };
    const timer = setTimeout(() => (done(), resolve()), ms);
    for (const signal of signals) signal?.addEventListener('abort', abort);
  });
}
