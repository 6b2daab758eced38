import type { ResolvedOptions } from '../options.js';
import { encodeBody, gzipSync, requestUrl } from './encode.js';
import { classifyStatus } from './outcome.js';
import type { SendOutcome, Transport, WireBatch } from './transport.js';

/** What the HTTP transport needs from the tracker options. */
export type HttpTransportOptions = Pick<
  ResolvedOptions,
  'endpoint' | 'streams' | 'signer' | 'headers' | 'timeoutMs' | 'compression' | 'compressAboveBytes' | 'now' | 'retry'
>;

/**
 * Delivers batches over HTTP with the platform's fetch. The request is CORS-simple by default: a
 * `Uint8Array` body has no Content-Type, and gzip is flagged in the URL rather than by
 * `Content-Encoding`, either of which would force a preflight (design.md, wire format v1).
 */
export function createHttpTransport(options: HttpTransportOptions): Transport {
  return {
    async send(batch: WireBatch): Promise<SendOutcome> {
      const { url, body } = prepareRequest(options, batch);
      const response = await post(url, body, options);
      if (response instanceof Response) {
        return response.ok
          ? { kind: 'ok', status: response.status, reply: await readJson(response), bytes: body.length }
          : classifyStatus(response.status, response.headers.get('retry-after'), options.now(), options.retry.maxDelayMs, new Error(`HTTP ${response.status}`));
      }
      // A timeout, or fetch's TypeError for a network failure (offline, refused, CORS).
      return { kind: 'retry', error: response };
    },
  };
}

/**
 * POSTs bytes; resolves with the Response or the error, never rejects. The timeout is the
 * platform's `AbortSignal.timeout` (a TimeoutError). outbox used ky here until the benchmarks
 * showed it was a quarter of the script tag (4.6 KB) and 0.5 ms of CPU per request, for a
 * timeout and a status check the platform does itself (docs/design.md).
 */
export async function post(url: string, body: Uint8Array, options: Pick<HttpTransportOptions, 'headers' | 'timeoutMs'>): Promise<Response | Error> {
  try {
    return await fetch(url, {
      method: 'POST',
      body: body as Uint8Array<ArrayBuffer>,
      headers: options.headers,
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    return error as Error;
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

async function readJson(response: Response): Promise<unknown> {
  try {
    const text = await response.text();
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined; // a 2xx is an acknowledgement whatever its body says
  }
}
