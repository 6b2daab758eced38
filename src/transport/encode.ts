import { gzipSync } from 'fflate';

const encoder = new TextEncoder();

/**
 * The wire format v1 body: `{"sentAt":…,"events":[…]}`, built by joining the events' JSON,
 * never re-stringifying them (analytics-next re-stringifies its whole buffer per event: O(n²)).
 */
export function encodeBody(events: readonly { json: string }[], sentAt: number): Uint8Array {
  let body = `{"sentAt":${sentAt},"events":[`;
  for (let i = 0; i < events.length; i++) body += (i ? ',' : '') + events[i]!.json;
  return encoder.encode(`${body}]}`);
}

/** Parameters that ride in the URL, because a beacon cannot carry headers. */
export interface RequestParams {
  rid: string;
  gzip?: boolean;
  stream?: string;
  sig?: string;
  test?: boolean;
}

/** The request URL: `endpoint?rid=…[&encoding=gzip][&stream=…][&sig=…][&test=1]`. */
export function requestUrl(endpoint: string, params: RequestParams): string {
  let url = `${endpoint}${endpoint.includes('?') ? '&' : '?'}rid=${encodeURIComponent(params.rid)}`;
  if (params.gzip) url += '&encoding=gzip';
  if (params.stream) url += `&stream=${encodeURIComponent(params.stream)}`;
  if (params.sig) url += `&sig=${params.sig}`;
  if (params.test) url += '&test=1';
  return url;
}

/**
 * Gzips a body off the main thread where the platform can (CompressionStream: browsers, workerd,
 * Node ≥ 18), else with fflate. The unload path calls `gzipSync` directly: it cannot await.
 */
export async function gzip(data: Uint8Array): Promise<Uint8Array> {
  if (typeof CompressionStream === 'function') {
    try {
      const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('gzip'));
      return new Uint8Array(await new Response(stream).arrayBuffer());
    } catch {
      // Safari 16 throws NotReadableError from native gzip (posthog-js#3564): fall through to fflate.
    }
  }
  return gzipSync(data);
}

export { gzipSync };
