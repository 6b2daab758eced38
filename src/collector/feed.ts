import type { CollectorConfig } from './collector-options.js';
import { maxPageChars, parseFeedQuery, sharePage, type FeedQuery } from './feed-query.js';
import type { PartitionClient } from './partition-client.js';
import type { ReadReply, StoredEvent } from './partition-protocol.js';
import { errorReply } from './reply.js';

const encoder = new TextEncoder();

/**
 * GET {feedPath}: the ZeroEventHub feed, read from the partitions. Each event line's `data` is
 * the event as tracked; each partition read ends with its checkpoint. With `wait`, a page that
 * would be empty waits until one of the partitions asked for gets an event.
 */
export async function handleFeed(request: Request, url: URL, config: CollectorConfig, partitions: PartitionClient): Promise<Response> {
  if (config.feedToken === undefined) return errorReply(403, 'feed_disabled', 'the feed needs a consumer token: set feedToken (OUTBOX_FEED_TOKEN)');
  if (!(await bearerMatches(request.headers.get('authorization'), config.feedToken))) {
    return errorReply(401, 'unauthorized', 'the feed needs "Authorization: Bearer <feed token>"', { 'www-authenticate': 'Bearer' });
  }
  const query = parseFeedQuery(url.searchParams, config.partitionCount);
  if (!query.ok) return errorReply(400, query.code, query.message);

  let replies: ReadReply[];
  try {
    replies = await readAll(query, partitions);
    if (query.waitMs > 0 && replies.every((r) => r.ok && r.events.length === 0)) {
      replies = await firstWithEvents(query, replies, partitions);
    }
  } catch (error) {
    return errorReply(503, 'unavailable', `storage did not answer: ${(error as Error).message}`, { 'retry-after': '1' });
  }
  const bad = replies.find((r): r is Extract<ReadReply, { ok: false }> => !r.ok);
  if (bad) return errorReply(400, 'bad_cursor', bad.message);

  let body = '';
  const order = [...query.cursors.keys()];
  replies.forEach((reply, i) => {
    if (!reply.ok) return;
    const partition = order[i]!;
    for (const event of reply.events) body += `{"partition":${partition},"headers":${headersOf(event, query.headers)},"data":${event.data}}\n`;
    body += JSON.stringify({ partition, cursor: reply.cursor }) + '\n';
  });
  // JSON allows U+2028/U+2029 raw, JavaScript line splitters do not: escape them (inside strings,
  // the only place they can be).
  body = body.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return new Response(body, { headers: { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' } });
}

/** One read of every partition asked for, without waiting. */
function readAll(query: FeedQuery, partitions: PartitionClient): Promise<ReadReply[]> {
  const shares = sharePage(query.pageSize, query.cursors.size);
  return Promise.all(
    [...query.cursors].map(([partition, cursor], i) => partitions.call<ReadReply>(partition, readPath(cursor, shares[i]!, 0, query.cursors.size))),
  );
}

/**
 * The long poll: every partition waits; the first to answer with events answers the request,
 * the others keep the checkpoints they had (still valid: nothing was read from them).
 */
async function firstWithEvents(query: FeedQuery, empty: ReadReply[], partitions: PartitionClient): Promise<ReadReply[]> {
  const cursors = empty.map((r) => (r.ok ? r.cursor : '_first'));
  const shares = sharePage(query.pageSize, query.cursors.size);
  const order = [...query.cursors.keys()];
  return new Promise((resolve, reject) => {
    let pending = order.length;
    const replies = empty.slice();
    order.forEach((partition, i) => {
      partitions
        .call<ReadReply>(partition, readPath(cursors[i]!, shares[i]!, query.waitMs, order.length))
        .then((reply) => {
          if (reply.ok && reply.events.length > 0) {
            replies[i] = reply;
            resolve(replies);
          }
          if (--pending === 0) resolve(replies);
        }, reject);
    });
  });
}

/** A partition read: its share of the page in events and in characters. */
function readPath(cursor: string, limit: number, waitMs: number, partitionsRead: number): string {
  return `/read?cursor=${encodeURIComponent(cursor)}&limit=${limit}&waitMs=${waitMs}&maxChars=${Math.floor(maxPageChars / partitionsRead)}`;
}

function headersOf(event: StoredEvent, wanted: Set<string> | 'all'): string {
  if (wanted !== 'all' && wanted.size === 0) return '{}';
  const all: Record<string, string> = { receivedAt: String(event.receivedAt) };
  if (event.rid !== null) all.rid = event.rid;
  if (wanted === 'all') return JSON.stringify(all);
  const picked: Record<string, string> = {};
  for (const name of wanted) if (Object.hasOwn(all, name)) picked[name] = all[name]!;
  return JSON.stringify(picked);
}

/** Compares the bearer token through SHA-256 digests, so the comparison time says nothing about the token. */
async function bearerMatches(header: string | null, token: string): Promise<boolean> {
  const match = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match) return false;
  const [a, b] = await Promise.all([match[1]!, token].map((t) => crypto.subtle.digest('SHA-256', encoder.encode(t))));
  const x = new Uint8Array(a!);
  const y = new Uint8Array(b!);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}
