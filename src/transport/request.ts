import type { Signer, StreamOptions } from '../options.js';

/** Where a batch request goes and who signs it: a stream's endpoint and signer, else these. */
export interface RequestTarget {
  /** The collector URL. */
  endpoint: string;
  /** Per-stream endpoints and signers; streams not listed use `endpoint` and `signer` (`{}` for none). */
  streams: Record<string, StreamOptions>;
  /** Signs every request body (`?sig=`). @default undefined */
  signer?: Signer;
}

/**
 * The one request builder, shared by the HTTP transport and the unload path: the URL of a batch
 * request with body `body` (already encoded, and gzipped if `gzip`), to its stream's endpoint,
 * signed by its stream's signer over the exact bytes sent; `test` marks a request the collector
 * records nothing of. Everything rides in the URL, since a beacon cannot carry headers:
 * `endpoint?rid=…[&encoding=gzip][&stream=…][&sig=…][&test=1]`. Pure but for the signer.
 */
export function requestUrl(target: RequestTarget, rid: string, stream: string, body: Uint8Array, gzip?: boolean, test?: boolean): string {
  const own = target.streams[stream];
  const endpoint = own?.endpoint ?? target.endpoint;
  const sig = (own?.signer ?? target.signer)?.(body);
  let url = `${endpoint}${endpoint.includes('?') ? '&' : '?'}rid=${encodeURIComponent(rid)}`;
  if (gzip) url += '&encoding=gzip';
  if (stream) url += `&stream=${encodeURIComponent(stream)}`;
  if (sig) url += `&sig=${sig}`;
  if (test) url += '&test=1';
  return url;
}
