import type { ResolvedOptions } from '../options.js';
import { maxReplyBytes } from '../wire.js';
import { encodeBody, gzipSync, requestUrl } from './encode.js';
import { classifyStatus } from './outcome.js';
import type { SendOutcome, Transport, WireBatch } from './transport.js';

/** What the HTTP transport needs from the tracker options. */
export type HttpTransportOptions = Pick<
  ResolvedOptions,
  'endpoint' | 'streams' | 'signer' | 'headers' | 'timeoutMs' | 'compression' | 'compressAboveBytes' | 'now' | 'maxRetryAfterMs'
> &
  Partial<Pick<ResolvedOptions, 'fetch' | 'timers'>>;

/**
 * Delivers batches over HTTP with the platform's fetch (or the `fetch` option). The request is
 * CORS-simple by default: a `Uint8Array` body has no Content-Type, and gzip is flagged in the URL
 * rather than by `Content-Encoding`, either of which would force a preflight (design.md, wire
 * format v1). Only a 2xx from the endpoint itself acknowledges: redirects are not followed.
 */
export function createHttpTransport(options: HttpTransportOptions): Transport {
  return {
    async send(batch: WireBatch): Promise<SendOutcome> {
      const { url, body } = prepareRequest(options, batch);
      const { response, finish } = await request(url, body, options);
      try {
        return await outcomeOf(response, body.length);
      } finally {
        finish();
      }
    },
  };

  async function outcomeOf(response: Response | Error, bytes: number): Promise<SendOutcome> {
    // A timeout, or fetch's TypeError for a network failure (offline, refused, CORS).
    if (!(response instanceof Response)) return { kind: 'retry', error: response };
    const redirect = redirectProblem(response);
    if (redirect) {
      void response.body?.cancel().catch(() => undefined);
      return { kind: 'retry', status: response.status || undefined, error: new Error(redirect) };
    }
    if (response.ok) return { kind: 'ok', status: response.status, reply: await readReply(response), bytes };
    void response.body?.cancel().catch(() => undefined);
    return classifyStatus(response.status, response.headers.get('retry-after'), options.now(), options.maxRetryAfterMs, new Error(`HTTP ${response.status}`));
  }
}

/**
 * Why a response is a redirect rather than the endpoint's answer, or undefined. With
 * `redirect: 'manual'` a browser gives an opaque response (status 0, no Location); Node and
 * Workers give the 3xx itself. A `fetch` that followed anyway says so in `redirected`.
 */
export function redirectProblem(response: Response): string | undefined {
  if (response.type === 'opaqueredirect') return '[outbox] the endpoint answered with a redirect (its Location is hidden from the page): set `endpoint` to the final URL';
  if (response.redirected) return `[outbox] the request was redirected to ${response.url}: set \`endpoint\` to the final URL`;
  if (response.status >= 300 && response.status < 400) {
    return `[outbox] the endpoint answered HTTP ${response.status} redirecting to ${response.headers.get('location') ?? '(no Location)'}: set \`endpoint\` to the final URL`;
  }
  return undefined;
}

/**
 * POSTs bytes; resolves with the Response or the error, never rejects. The timeout aborts the
 * request (a TimeoutError) on the injected timers, so a simulated clock times requests out too.
 * outbox used ky here until the benchmarks showed it was a quarter of the script tag (4.6 KB) and
 * 0.5 ms of CPU per request, for a timeout and a status check the platform does itself.
 */
export async function post(
  url: string,
  body: Uint8Array,
  options: Pick<HttpTransportOptions, 'headers' | 'timeoutMs' | 'fetch' | 'timers'>,
): Promise<Response | Error> {
  const { response, finish } = await request(url, body, options);
  finish();
  return response;
}

// The request, and `finish` to stop its timeout once the body is read (the timeout covers it).
async function request(
  url: string,
  body: Uint8Array,
  options: Pick<HttpTransportOptions, 'headers' | 'timeoutMs' | 'fetch' | 'timers'>,
): Promise<{ response: Response | Error; finish: () => void }> {
  const timers = options.timers;
  const controller = new AbortController();
  const abort = () => controller.abort(new DOMException(`[outbox] no response within ${options.timeoutMs} ms`, 'TimeoutError'));
  const handle = timers ? timers.setTimeout(abort, options.timeoutMs) : setTimeout(abort, options.timeoutMs);
  const finish = () => (timers ? timers.clearTimeout(handle) : clearTimeout(handle as ReturnType<typeof setTimeout>));
  try {
    const send = options.fetch ?? ((input: string, init: RequestInit) => fetch(input, init));
    const response: unknown = await send(url, {
      method: 'POST',
      body: body as Uint8Array<ArrayBuffer>,
      headers: options.headers,
      // A redirect (http -> https is common) would be followed as a GET without the body, and
      // the final URL's 200 would read as an acknowledgement of events never stored.
      redirect: 'manual',
      signal: controller.signal,
    });
    if (response instanceof Response) return { response, finish };
    finish();
    return { response: new TypeError('[outbox] fetch resolved with something other than a Response'), finish };
  } catch (error) {
    finish();
    return { response: error instanceof Error ? error : new Error(String(error)), finish };
  }
}

/** Builds the URL and body of a batch request: encode, gzip above the threshold, sign. */
export function prepareRequest(
  options: Pick<HttpTransportOptions, 'endpoint' | 'streams' | 'signer' | 'compression' | 'compressAboveBytes' | 'now'>,
  batch: WireBatch,
  test = false,
): { url: string; body: Uint8Array } {
  let body = encodeBody(batch.events, options.now());
  const gzip = options.compression === 'gzip' && body.length >= options.compressAboveBytes;
  if (gzip) body = gzipSync(body);
  const stream = options.streams[batch.stream];
  const signer = stream?.signer ?? options.signer;
  const url = requestUrl(stream?.endpoint ?? options.endpoint, { rid: batch.rid, gzip, stream: batch.stream, sig: signer?.(body), test });
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
  if (!reader) return undefined;
  const parts: Uint8Array[] = [];
  let length = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      length += value.byteLength;
      if (length > limit) {
        void reader.cancel().catch(() => undefined);
        return undefined;
      }
      parts.push(value);
    }
    const bytes = new Uint8Array(length);
    let offset = 0;
    for (const part of parts) {
      bytes.set(part, offset);
      offset += part.byteLength;
    }
    const text = new TextDecoder().decode(bytes);
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return undefined; // a reset mid-body or malformed JSON: still a 2xx
  }
}
