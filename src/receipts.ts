import type { ReceiptReply } from './wire.js';
import type { ResolvedOptions } from './options.js';
import { readReply } from './transport/http.js';

/**
 * What a collector said about a request id: `true` it committed it, `false` it did not, `null`
 * it does not answer receipts (an old collector: a 404, another body), `undefined` it could not
 * be reached (offline, refused, timed out: worth asking again).
 */
export type ReceiptAnswer = boolean | null | undefined;

/** How long a receipt request may take. Longer, and the lease's own wait decides. */
export const receiptTimeoutMs = 3000;
/**
 * A request younger than this may still be on its way (an unload request racing the next page's
 * receipt request): a "missing" for it is asked again rather than trusted. At 1.5 s, the keepalive
 * request of a closing Firefox tab arrived after the "missing" in 1 of 3 three-tab runs (100
 * duplicates); at 3 s, in none of 4.
 */
export const receiptSettleMs = 3000;

/** `GET {endpoint}?receipt=<rid>` (wire.ts): a CORS-simple request, no preflight. */
export function receiptUrl(endpoint: string, rid: string): string {
  return `${endpoint}${endpoint.includes('?') ? '&' : '?'}receipt=${encodeURIComponent(rid)}`;
}

/** Reads a reply to a receipt request: only a 200 {@link ReceiptReply} about this very rid counts. */
export function readReceipt(rid: string, status: number, body: unknown): ReceiptAnswer {
  const reply = body as Partial<ReceiptReply> | null;
  return status === 200 && reply?.rid === rid && typeof reply.received === 'boolean' ? reply.received : null;
}

/**
 * Asks the collector behind `stream`'s endpoint (else the tracker's) whether it committed request
 * `rid`, through the tracker's `fetch` (the one its batches use: a proxy, a polyfill or a simulated
 * network), for at most {@link receiptTimeoutMs}. Never rejects; no endpoint is no answer
 * (undefined). `onReceipt` gets the body of a receipt about `rid` (its `ruled` ids: unchecked, read
 * them with batch-outcome.ts `ruledIds`).
 */
export async function askReceipt(options: Pick<ResolvedOptions, 'fetch' | 'streams' | 'endpoint'>, stream: string, rid: string, onReceipt?: (reply: ReceiptReply) => void): Promise<ReceiptAnswer> {
  const endpoint = options.streams[stream]?.endpoint ?? options.endpoint;
  if (endpoint) return options.fetch(receiptUrl(endpoint, rid), { signal: AbortSignal.timeout(receiptTimeoutMs), cache: 'no-store' }).then(
    (response) =>
      // Read like a batch reply, at most 64 KiB: a hostile receipt must not fill memory.
      readReply(response).then((body) => {
        const answer = readReceipt(rid, response.status, body);
        if (answer !== null) onReceipt?.(body as ReceiptReply);
        return answer;
      }),
    () => undefined,
  );
}
