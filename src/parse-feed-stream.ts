import { FeedError } from './feed-error.js';
import type { Cursor, FeedEvent, FeedPage } from './feed-page.js';

/** Longest NDJSON line read, in UTF-16 code units: an endless line is a clear error, not our memory. */
export const maxFeedLineLength = 8 * 1024 * 1024;

/**
 * Parses an NDJSON feed body line by line as its chunks arrive (never the whole body as one
 * string): lines split on "\n" only (as the reference client does since zeroeventhub e0cf518),
 * blank lines skipped (f3870bb), a line with a non-null `cursor` is a checkpoint, any other line
 * an event. `asked` are the cursors the page was read from: each is replaced by its partition's
 * latest checkpoint in {@link FeedPage.cursors}.
 */
export async function parseFeedStream<T>(body: ReadableStream<Uint8Array> | null, asked: readonly Cursor[]): Promise<FeedPage<T>> {
  const page: FeedPage<T> = { events: [], checkpoints: [], cursors: [] };
  const latest = new Map(asked.map((c) => [c.partition, c.cursor]));
  if (body) {
    const decoder = new TextDecoder();
    const reader = body.getReader();
    let rest = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        // Only the new text can hold a newline: a long line is not scanned again per chunk.
        let from = rest.length;
        rest += done ? decoder.decode() : decoder.decode(value, { stream: true });
        let start = 0;
        let newline: number;
        while ((newline = rest.indexOf('\n', from)) !== -1) {
          parseLine(rest.slice(start, newline), page, latest);
          start = from = newline + 1;
        }
        rest = rest.slice(start);
        if (done) break;
        if (rest.length > maxFeedLineLength) throw new FeedError('bad_response', `a feed line is longer than ${maxFeedLineLength} characters`);
      }
    } catch (error) {
      // Stop the download: what is left of a body we refuse or cannot read is not wanted.
      reader.cancel(error).catch(() => {});
      throw error;
    } finally {
      reader.releaseLock();
    }
    parseLine(rest, page, latest);
  }
  page.cursors = [...latest].map(([partition, cursor]) => ({ partition, cursor }));
  return page;
}

function parseLine<T>(line: string, page: FeedPage<T>, latest: Map<number, string>): void {
  if (!line.trim()) return;
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
    page.checkpoints.push({ partition, cursor });
    latest.set(partition, cursor);
  } else {
    const event: FeedEvent<T> = item.headers == null ? { partition, data: item.data as T } : { partition, headers: item.headers, data: item.data as T };
    page.events.push(event);
  }
}
