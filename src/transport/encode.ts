import { utf8 } from '../event.js';

/**
 * The wire format v1 body: `{"sentAt":…,"events":[…]}`, built by joining the events' JSON,
 * never re-stringifying them (analytics-next re-stringifies its whole buffer per event: O(n²)).
 */
export function encodeBody(events: readonly { json: string }[], sentAt: number): Uint8Array {
  return utf8.encode(`{"sentAt":${sentAt},"events":${jsonArray(events)}}`);
}

/** A JSON array of the events' serialized records, joined as they are. */
export const jsonArray = (events: Iterable<{ json: string }>): string => `[${Array.from(events, (event) => event.json).join()}]`;

/**
 * Gzips through the platform's `CompressionStream` (every current browser, Node >= 18, workerd);
 * undefined where it is missing or fails (Safari 16 rejects with NotReadableError,
 * posthog-js#3564), and the caller sends plain. fflate's gzipSync was 3.4 KB of the script tag.
 */
export async function gzip(body: Uint8Array): Promise<Uint8Array | undefined> {
  try {
    const stream = new Blob([body as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new CompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch {
    return undefined; // no CompressionStream, or a broken one: plain bytes are valid wire format too
  }
}
