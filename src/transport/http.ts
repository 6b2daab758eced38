import ky, { HTTPError } from 'ky';
import type { ResolvedOptions } from '../options.js';
import { encodeBody, gzip, requestUrl } from './encode.js';
import { classifyStatus } from './outcome.js';
import type { SendOutcome, Transport, WireBatch } from './transport.js';

/** What the HTTP transport needs from the tracker options. */
export type HttpTransportOptions = Pick<
  ResolvedOptions,
  'endpoint' | 'streams' | 'signer' | 'headers' | 'timeoutMs' | 'compression' | 'compressAboveBytes' | 'now' | 'retry'
>;

/**
 * Delivers batches over HTTP through ky (timeouts, HTTP errors). The request is CORS-simple by
 * default: a `Uint8Array` body has no Content-Type, and gzip is flagged in the URL rather than by
 * `Content-Encoding`, either of which would force a preflight (design.md, wire format v1).
 */
export function createHttpTransport(options: HttpTransportOptions): Transport {
  return {
    async send(batch: WireBatch): Promise<SendOutcome> {
      const { url, body } = await prepareRequest(options, batch);
      try {
        const response = await ky.post(url, {
          body: body as Uint8Array<ArrayBuffer>,
          headers: options.headers,
          timeout: options.timeoutMs,
          retry: 0, // outbox retries durably, across requests and reloads
        });
        return { kind: 'ok', status: response.status, reply: await readJson(response), bytes: body.length };
      } catch (error) {
        if (error instanceof HTTPError) {
          const { status, headers } = error.response;
          return classifyStatus(status, headers.get('retry-after'), options.now(), options.retry.maxDelayMs, error);
        }
        // ky's TimeoutError, or fetch's TypeError for a network failure (offline, refused, CORS).
        return { kind: 'retry', error };
      }
    },
  };
}

/** Builds the URL and body of a batch request: encode, gzip above the threshold, sign. */
export async function prepareRequest(
  options: Pick<HttpTransportOptions, 'endpoint' | 'streams' | 'signer' | 'compression' | 'compressAboveBytes' | 'now'>,
  batch: WireBatch,
  test = false,
): Promise<{ url: string; body: Uint8Array }> {
  let body = encodeBody(batch.events, options.now());
  const compressed = options.compression === 'gzip' && body.length >= options.compressAboveBytes;
  if (compressed) body = await gzip(body);
  const stream = options.streams[batch.stream];
  const signer = stream?.signer ?? options.signer;
  const url = requestUrl(stream?.endpoint ?? options.endpoint, {
    rid: batch.rid,
    gzip: compressed,
    stream: batch.stream,
    sig: signer?.(body),
    test,
  });
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
