import { defaults, type FetchFunction, type Timers } from '../options.js';
import { maxReplyBytes } from '../wire.js';
import { encodeBody, gzip } from './encode.js';
import { classifyStatus } from './outcome.js';
import { requestUrl, type RequestTarget } from './request.js';
import type { SendOutcome, Transport, WireBatch } from './transport.js';

/**
 * Options of {@link createHttpTransport}: what it uses, no more. The tracker passes its resolved
 * options, which hold these with the defaults of `createTracker` (`defaults` in options.ts).
 */
export interface HttpTransportOptions extends RequestTarget {
  /** Extra request headers; they make a cross-origin request need a CORS preflight. @default undefined */
  headers?: Record<string, string>;
  /** Per-request timeout. */
  timeoutMs: number;
  /** `gzip` compresses bodies of at least `compressAboveBytes` through `CompressionStream`. */
  compression: 'gzip' | 'none';
  compressAboveBytes: number;
  /** The clock: the body's `sentAt`, and the base of a `Retry-After` date. */
  now: () => number;
  /** Longest pause a server's `Retry-After` can impose. @default 3600000 */
  maxRetryAfterMs?: number;
  /** The fetch to POST with. @default globalThis.fetch (looked up per request) */
  fetch?: FetchFunction;
  /** The timers of the request timeout. @default globalThis's setTimeout/clearTimeout */
  timers?: Timers;
}

/**
 * Delivers batches over HTTP with the platform's fetch (or the `fetch` option). The request is
 * CORS-simple by default: a `Uint8Array` body has no Content-Type, and gzip is flagged in the URL
 * rather than by `Content-Encoding`, either of which would force a preflight (design.md, wire
 * format v1). Only a 2xx from the endpoint itself acknowledges: redirects are not followed.
 */
export function createHttpTransport(options: HttpTransportOptions): Transport {
  const compressor: Compressor = {};
  return {
    async send(batch: WireBatch): Promise<SendOutcome> {
      const { url, body } = await prepareRequest(options, batch, false, compressor);
      const response = await post(url, body, options, true);
      // A timeout, or fetch's TypeError for a network failure (offline, refused, CORS).
      if (!(response instanceof Response)) return { kind: 'retry', error: response };
      const { status } = response;
      const redirect = redirectProblem(response);
      // Transports built by hand (a public export) may predate maxRetryAfterMs: default it.
      const outcome: SendOutcome = redirect
        ? { kind: 'retry', status: status || undefined, error: new Error(redirect) }
        : response.ok
          ? { kind: 'ok', status, reply: await readReply(response), bytes: body.length }
          : classifyStatus(status, response.headers.get('retry-after'), options.now(), options.maxRetryAfterMs ?? defaults.maxRetryAfterMs, new Error(`HTTP ${status}`));
      void response.body?.cancel().catch(() => undefined);
      (response as { finish?: () => void }).finish?.();
      return outcome;
    },
  };
}

/**
 * Why a response is a redirect rather than the endpoint's answer, or undefined. With
 * `redirect: 'manual'` a browser gives an opaque response (status 0, Location hidden); Node and
 * Workers give the 3xx itself; a `fetch` that followed anyway says so in `redirected`.
 */
export function redirectProblem(response: Response): string | undefined {
  const { status } = response;
  return response.type === 'opaqueredirect' || response.redirected || (status > 299 && status < 400)
    ? `[outbox] redirected to ${response.headers.get('location') ?? response.url}`
    : undefined;
}

/**
 * POSTs bytes; resolves with the Response or the error, never rejects. The timeout aborts the
 * request (body included) on the injected timers, so a simulated clock times requests out too.
 * With `keep`, the timeout runs on until the caller calls the response's `finish()`.
 * outbox used ky here until the benchmarks showed it was a quarter of the script tag (4.6 KB).
 */
export async function post(
  url: string,
  body: Uint8Array,
  options: Pick<HttpTransportOptions, 'headers' | 'timeoutMs' | 'fetch' | 'timers'>,
  keep?: boolean,
): Promise<Response | Error> {
  const timers = options.timers ?? (globalThis as unknown as Timers);
  const controller = new AbortController();
  const handle = timers.setTimeout(() => controller.abort(new DOMException('[outbox] request timed out', 'TimeoutError')), options.timeoutMs);
  const finish = () => timers.clearTimeout(handle);
  try {
    const response = await (options.fetch ?? fetch)(url, {
      method: 'POST',
      body: body as Uint8Array<ArrayBuffer>,
      headers: options.headers,
      // A redirect (http -> https is common) would be followed as a GET without the body, and
      // the final URL's 200 would read as an acknowledgement of events never stored.
      redirect: 'manual',
      signal: controller.signal,
    });
    if (keep) (response as { finish?: () => void }).finish = finish;
    else finish();
    return response;
  } catch (error) {
    finish();
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** What one tracker remembers about its gzip: `broken` once `CompressionStream` failed. */
export interface Compressor {
  broken?: boolean;
}

/**
 * Builds the URL and body of a batch request: encode, gzip above the threshold (plain when the
 * platform cannot, remembered in `compressor`), sign. `encoding=gzip` only on a gzip body.
 */
export async function prepareRequest(
  options: Pick<HttpTransportOptions, keyof RequestTarget | 'compression' | 'compressAboveBytes' | 'now'>,
  batch: WireBatch,
  test = false,
  compressor: Compressor = {},
): Promise<{ url: string; body: Uint8Array }> {
  let body = encodeBody(batch.events, options.now());
  let gzipped: Uint8Array | undefined;
  if (options.compression === 'gzip' && body.length >= options.compressAboveBytes && !compressor.broken) {
    gzipped = await gzip(body);
    compressor.broken = !gzipped;
  }
  if (gzipped) body = gzipped;
  const url = requestUrl(options, batch.rid, batch.stream, body, !!gzipped, test);
  return { url, body };
}

/**
 * Reads at most `limit` bytes of a reply and parses them as JSON; the rest is cancelled, never
 * buffered (a 500 MB reply costs one chunk). Undefined when the body is absent, too long or not
 * JSON: a 2xx is an acknowledgement whatever its body says, and a reply without `ruled` means
 * every event was stored.
 */
export async function readReply(response: Response, limit = maxReplyBytes): Promise<unknown> {
  const reader = response.body?.getReader();
  try {
    const parts: Uint8Array[] = [];
    for (let length = 0; ; ) {
      const { done, value } = await reader!.read();
      if (done) return JSON.parse(await new Blob(parts as BlobPart[]).text()) as unknown;
      if ((length += value.length) > limit) throw 0;
      parts.push(value);
    }
  } catch {
    void reader?.cancel().catch(() => undefined);
    return undefined; // no body, too long, a reset mid-body or not JSON: still a 2xx
  }
}
