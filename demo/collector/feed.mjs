import { sendError } from './reply.mjs';

/**
 * The ZeroEventHub feed: stored events, partitioned by a stable hash of `sourceId` so one
 * source's events keep their order, read with one opaque cursor per partition.
 * Spec: https://github.com/vippsas/zeroeventhub (SPEC.md). Cursors here are the decimal index
 * into a partition's event list; `_first` is 0 and `_last` the current end.
 *
 * `pagesizehint` caps the events of one whole response (the spec: "return at most this many
 * events"), shared round-robin between the requested partitions so none starves.
 */

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 10_000;
export const MAX_WAIT_SEC = 30;

const encoder = new TextEncoder();

/**
 * FNV-1a, 32 bit, over the UTF-8 bytes: tiny, stable across runtimes, and easy to reimplement
 * in a feed consumer that wants to know where a source lands.
 * @param {string} text
 */
export function fnv1a32(text) {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * One NDJSON line. JSON.stringify leaves U+2028 and U+2029 raw, and readers that split lines
 * the way JavaScript or Python's `str.splitlines()` do would cut an event there: escape them.
 * @param {unknown} value
 */
export function ndjsonLine(value) {
  return JSON.stringify(value).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/** @param {number} partitionCount */
export function createFeed(partitionCount) {
  if (!Number.isInteger(partitionCount) || partitionCount < 1) {
    throw new TypeError(`[collector] partitions must be a positive integer, got ${partitionCount}`);
  }
  /** @type {unknown[][]} */
  let partitions = Array.from({ length: partitionCount }, () => []);
  /** @type {Set<(partition: number) => void>} */
  const listeners = new Set();

  /** @param {string | undefined} sourceId */
  const partitionOf = (sourceId) => fnv1a32(sourceId ?? '') % partitionCount;

  return {
    partitionCount,
    partitionOf,
    /** @param {number} partition */
    size: (partition) => partitions[partition].length,
    /** @param {{ sourceId?: string }} event */
    append(event) {
      const partition = partitionOf(event.sourceId);
      partitions[partition].push(event);
      for (const listener of listeners) listener(partition);
    },
    /**
     * Lines for one response: per partition its events, then always its checkpoint.
     * @param {Map<number, number>} cursors partition → start index
     * @param {number} pageSize
     */
    read(cursors, pageSize) {
      const order = [...cursors.keys()].sort((a, b) => a - b);
      const take = shareRoundRobin(
        order.map((p) => partitions[p].length - /** @type {number} */ (cursors.get(p))),
        pageSize,
      );
      /** @type {string[]} */
      const lines = [];
      order.forEach((partition, i) => {
        const start = /** @type {number} */ (cursors.get(partition));
        for (const data of partitions[partition].slice(start, start + take[i])) {
          lines.push(ndjsonLine({ partition, headers: {}, data }));
        }
        lines.push(JSON.stringify({ partition, cursor: String(start + take[i]) }));
      });
      return lines.join('\n') + '\n';
    },
    /**
     * Resolves when one of `wanted` gets an event, after `ms`, or on abort, whichever is first.
     * Event-driven, and it leaves no listener or timer behind.
     * @param {Set<number>} wanted
     * @param {number} ms
     * @param {AbortSignal} signal
     */
    waitForAppend(wanted, ms, signal) {
      return new Promise((resolve) => {
        const done = () => {
          listeners.delete(onAppend);
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve(undefined);
        };
        /** @param {number} partition */
        const onAppend = (partition) => {
          if (wanted.has(partition)) done();
        };
        const timer = setTimeout(done, ms);
        listeners.add(onAppend);
        signal.addEventListener('abort', done);
        if (signal.aborted) done();
      });
    },
    /** Long polls currently waiting; a leak shows up here. */
    get waiting() {
      return listeners.size;
    },
    reset() {
      partitions = Array.from({ length: partitionCount }, () => []);
    },
  };
}

/** @typedef {ReturnType<typeof createFeed>} Feed */

/**
 * Splits `budget` over partitions having `available[i]` events, one at a time in turn.
 * @param {number[]} available
 * @param {number} budget
 */
export function shareRoundRobin(available, budget) {
  const take = available.map(() => 0);
  let left = budget;
  while (left > 0) {
    let progressed = false;
    for (let i = 0; i < available.length && left > 0; i++) {
      if (take[i] < available[i]) {
        take[i]++;
        left--;
        progressed = true;
      }
    }
    if (!progressed) break;
  }
  return take;
}

/**
 * Validates a feed query. Errors follow the reference servers: 400 with a message.
 * @param {URLSearchParams} params
 * @param {Feed} feed
 * @returns {{ ok: true, cursors: Map<number, number>, pageSize: number, waitMs: number }
 *   | { ok: false, code: string, message: string }}
 */
export function parseFeedQuery(params, feed) {
  const n = params.get('n');
  if (n === null) return bad('partition_count', 'partition count missing (parameter n)');
  if (!/^\d+$/.test(n)) return bad('partition_count', `invalid parameter n: "${n}"`);
  if (Number(n) !== feed.partitionCount) {
    return bad('partition_count', `partition count mismatch: n=${n}, the feed has ${feed.partitionCount}`);
  }
  /** @type {Map<number, number>} */
  const cursors = new Map();
  for (const [key, value] of params) {
    if (!key.startsWith('cursor')) continue;
    const match = /^cursor(\d+)$/.exec(key);
    const partition = match ? Number(match[1]) : NaN;
    if (!(partition < feed.partitionCount)) {
      return bad('bad_cursor', `invalid cursor parameter "${key}": partitions are 0..${feed.partitionCount - 1}`);
    }
    if (cursors.has(partition)) return bad('bad_cursor', `${key} is given more than once`);
    const end = feed.size(partition);
    const index = value === '_first' ? 0 : value === '_last' ? end : /^\d+$/.test(value) ? Number(value) : NaN;
    if (Number.isNaN(index)) return bad('bad_cursor', `invalid cursor "${value}" for ${key}`);
    // Past the end can only be a cursor from before a reset, or made up: refuse rather than guess.
    if (index > end) return bad('bad_cursor', `${key}=${value} is past the end of partition ${partition} (${end})`);
    cursors.set(partition, index);
  }
  if (cursors.size === 0) return bad('missing_cursor', 'cursor parameter is missing');

  const hint = params.get('pagesizehint');
  if (hint !== null && hint !== '' && !/^\d+$/.test(hint)) {
    return bad('bad_parameter', `pagesizehint must be a non-negative integer, got "${hint}"`);
  }
  // The spec's clients omit the hint when 0, so 0 and absent both mean the default.
  const pageSize = hint ? Math.min(Number(hint), MAX_PAGE_SIZE) || DEFAULT_PAGE_SIZE : DEFAULT_PAGE_SIZE;

  const wait = params.get('wait');
  const waitSec = wait === null || wait === '' ? 0 : Number(wait);
  if (!Number.isFinite(waitSec) || waitSec < 0) {
    return bad('bad_parameter', `wait must be a number of seconds, got "${wait}"`);
  }
  return { ok: true, cursors, pageSize, waitMs: Math.min(waitSec, MAX_WAIT_SEC) * 1000 };
}

/**
 * GET /feed/v1. With `wait`, a request that would return no events waits for one to arrive.
 * @param {import('node:http').IncomingMessage} req
 * @param {import('node:http').ServerResponse} res
 * @param {URL} url
 * @param {Feed} feed
 * @param {AbortSignal} closing aborted when the collector closes
 */
export async function handleFeed(req, res, url, feed, closing) {
  const query = parseFeedQuery(url.searchParams, feed);
  if (!query.ok) return sendError(res, 400, query.code, query.message);
  const { cursors, pageSize, waitMs } = query;
  const hasNew = () => [...cursors].some(([p, index]) => feed.size(p) > index);
  if (waitMs > 0 && !hasNew()) {
    const gone = new AbortController();
    const onGone = () => gone.abort();
    res.once('close', onGone);
    closing.addEventListener('abort', onGone);
    await feed.waitForAppend(new Set(cursors.keys()), waitMs, gone.signal);
    res.off('close', onGone);
    closing.removeEventListener('abort', onGone);
    if (res.destroyed) return;
  }
  const body = feed.read(cursors, pageSize);
  res.writeHead(200, {
    'Content-Type': 'application/x-ndjson',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

/**
 * @param {string} code
 * @param {string} message
 * @returns {{ ok: false, code: string, message: string }}
 */
function bad(code, message) {
  return { ok: false, code, message };
}
